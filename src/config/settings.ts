import { z } from 'zod';
import { templateProblems } from '../domain/templates';

// The business settings, modelled on the Business Central extension's "Customer Payment Portal Setup" page.
// Loaded from a JSON file (ARSYNC_SETTINGS_FILE); every field has a default that makes the embedded stack work.
// Secrets never live here: a connection names the environment variable that holds its token.

const accountNo = z.string().min(1).max(20);
const duration = z.string().regex(/^\d+(ms|s|m|h|d)$/, 'a duration like "500ms", "30s", "1m", "2h" or "3d"');

export const portalConnectionSchema = z.object({
  /** Invoice Ninja base URL, e.g. https://payments.example.com (no /api/v1). */
  url: z.url(),
  /** Name of the environment variable holding this connection's X-API-TOKEN. */
  tokenEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name'),
  /** Client-side rate limit for this connection (hosted Invoice Ninja allows 800 requests a minute). */
  ratePerMinute: z.number().int().positive().default(800),
  maxConcurrent: z.number().int().positive().max(64).default(8),
});

/**
 * The Business Central salesInvoice fields a custom value can carry: the API's name → the field of the invoice as arsync
 * reads it. The amounts' short names (`totalIncludingTax`, …) are taken too.
 */
export const CUSTOM_VALUE_FIELDS = {
  number: 'number',
  externalDocumentNumber: 'externalDocumentNumber',
  customerPurchaseOrderReference: 'customerPurchaseOrderReference',
  invoiceDate: 'invoiceDate',
  postingDate: 'postingDate',
  dueDate: 'dueDate',
  customerNumber: 'customerNumber',
  customerName: 'customerName',
  billToCustomerNumber: 'billToCustomerNumber',
  currencyCode: 'currencyCode',
  email: 'email',
  phoneNumber: 'phoneNumber',
  totalAmountExcludingTax: 'totalExcludingTax',
  totalTaxAmount: 'totalTax',
  totalAmountIncludingTax: 'totalIncludingTax',
  discountAmount: 'discount',
  remainingAmount: 'remaining',
  totalExcludingTax: 'totalExcludingTax',
  totalTax: 'totalTax',
  totalIncludingTax: 'totalIncludingTax',
} as const;
type CustomValueField = keyof typeof CUSTOM_VALUE_FIELDS;

/** A Business Central salesInvoice field arsync can read (CUSTOM_VALUE_FIELDS). */
const erpFieldSchema = z.enum(Object.keys(CUSTOM_VALUE_FIELDS) as [CustomValueField, ...CustomValueField[]], {
  error: () => `one of ${Object.keys(CUSTOM_VALUE_FIELDS).join(', ')}`,
});

export const customValueMappingSchema = z
  .object({
    /** The Business Central salesInvoice field copied into Invoice Ninja custom_valueN (one of CUSTOM_VALUE_FIELDS). */
    erpField: erpFieldSchema,
  })
  .nullable();

/**
 * Which invoices of an auto-bill customer the portal charges by itself: those made by recurring sales ("Auto Bill
 * Recurring Invoices"). Business Central's API does not mark them, so the rule names the field they carry and a pattern
 * (e.g. an external document number "REC-…"). Without a rule every invoice of an auto-bill customer is auto-billed.
 */
const regexText = z
  .string()
  .min(1)
  .refine(
    (p) => {
      try {
        new RegExp(p);
        return true;
      } catch {
        return false;
      }
    },
    { message: 'a regular expression' },
  );

const recurringInvoicesSchema = z
  .object({
    erpField: erpFieldSchema,
    pattern: regexText,
  })
  .strict()
  .nullable();

/** A link template: `{{customerName}}`, `{{invoiceNumber}}`, `{{amountDue}}`, `{{dueDate}}`, `{{payLink}}`, `{{companyName}}`. */
const template = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .superRefine((source, ctx) => {
      for (const problem of templateProblems(source)) ctx.addIssue({ code: 'custom', message: problem });
    });

export const linkTemplateSchema = z.object({
  emailSubject: template(200),
  emailText: template(10_000),
  smsText: template(480),
});

export const settingsSchema = z
  .object({
    companyName: z.string().min(1).default('CRONUS USA, Inc.'),
    requireEmailAddress: z.boolean().default(true),
    disableInvoiceEmails: z.boolean().default(true),
    recurringInvoices: recurringInvoicesSchema.default(null),
    attachments: z
      .object({
        /**
         * Customer attachments whose file name matches one of these patterns go to the portal for staff only (not public);
         * the others the customer can download from the client portal ("should it be synced to the payment portal?").
         */
        privateNames: z.array(regexText).default([]),
      })
      .strict()
      .prefault({}),
    customValues: z
      .tuple([customValueMappingSchema, customValueMappingSchema, customValueMappingSchema, customValueMappingSchema])
      .default([{ erpField: 'externalDocumentNumber' }, { erpField: 'customerPurchaseOrderReference' }, null, null]),
    payments: z
      .object({
        journalBatch: z.string().min(1).max(10).default('ARSYNC'),
        /** The ERP payment method of portal payments whose type `methodCodes` does not name; null: the customer's own. */
        paymentMethodCode: z.string().min(1).max(10).nullable().default('CARD'),
        balancingAccountNo: accountNo.default('10200'),
        /** Per portal payment type (card, bank, ...): the ERP payment method code to use. */
        methodCodes: z.record(z.string(), z.string().min(1).max(10)).default({ card: 'CARD', bank: 'BANK' }),
        /** ERP payment method code → that method's own balancing account (wins over balancingAccountNo). */
        methodBalancingAccounts: z.record(z.string(), accountNo).default({ BANK: '10100' }),
        /** Payments above this many minor units wait for finance (absurd-amount guard). */
        maxPaymentMinor: z.number().int().positive().default(100_000_000),
        postPaymentsForClosedInvoices: z.boolean().default(true),
        disallowOverpayments: z.boolean().default(true),
        /** G/L account for the excess of an overpayment (typically the gateway fee); null reports it instead. */
        feeAccountNo: accountNo.nullable().default('65100'),
        /**
         * The largest overpayment (beyond the portal's own gateway fee, which always goes to the fee account) booked to the
         * fee account, in minor units and/or basis points of what the invoice took; a larger one is the customer's money
         * (paid twice, or paid in the ERP meanwhile) and is credited to the customer. By default none is booked as a fee.
         */
        feeCap: z
          .object({ maxMinor: z.number().int().nonnegative().optional(), maxBasisPoints: z.number().int().nonnegative().optional() })
          .strict()
          .default({ maxMinor: 0 }),
        /** Refund-versus-adjustment: how far apart a negative payment and its positive partner may be. */
        adjustmentWindow: duration.default('10m'),
        /** General journal batch for refunds and unapplied postings to a customer account. */
        generalJournalBatch: z.string().min(1).max(10).default('REFUNDS'),
      })
      .prefault({}),
    connections: z
      .object({
        default: portalConnectionSchema.prefault({ url: 'http://127.0.0.1:4020', tokenEnv: 'INVOICE_NINJA_TOKEN' }),
        /** Customer posting group code → its own portal connection ("Use Customer-Specific Connections"). */
        byPostingGroup: z.record(z.string().min(1), portalConnectionSchema).default({}),
      })
      .prefault({}),
    links: z
      .object({
        channels: z.array(z.enum(['email', 'sms'])).default(['email', 'sms']),
        /** Send the link as soon as the invoice is synced. */
        sendOnSync: z.boolean().default(true),
        staffEmail: z.email().default('ar@cronus.example'),
        template: linkTemplateSchema.default({
          emailSubject: 'Invoice {{invoiceNumber}} from {{companyName}}',
          emailText:
            'Dear {{customerName}},\n\nInvoice {{invoiceNumber}} for {{amountDue}} is due on {{dueDate}}.\n' +
            'View and pay it online: {{payLink}}\n\nThank you,\n{{companyName}}',
          smsText: '{{companyName}}: invoice {{invoiceNumber}}, {{amountDue}} due {{dueDate}}. Pay: {{payLink}}',
        }),
      })
      .prefault({}),
    polling: z
      .object({
        /** Portal payments poller (the seed's job queue ran every minute). */
        paymentsInterval: duration.default('1m'),
        /** Invoice views (Invoice Ninja has no view webhook). */
        viewsInterval: duration.default('10s'),
        /** ERP ledger watermark for payments made in Business Central. */
        erpLedgerInterval: duration.default('30s'),
        driftSweepInterval: duration.default('1d'),
        /** Whether Business Central still has our webhook subscription (it drops one whose endpoint failed). */
        bcSubscriptionCheckInterval: duration.default('15m'),
        /** How far before its first start a portal watcher reads the portal's payments and views (not its whole history). */
        firstPollLookback: duration.default('1d'),
      })
      .prefault({}),
  })
  .strict();

export type Settings = z.infer<typeof settingsSchema>;
export type PortalConnection = z.infer<typeof portalConnectionSchema>;
