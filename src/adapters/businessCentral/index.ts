export { createBusinessCentralClient, odataString, type BusinessCentralClient } from './client';
export type { BusinessCentralConfig } from './config';
export type { Logger } from './http';
export { generalDocumentNumber, type CashReceiptLine, type CashReceiptRequest, type CashReceiptResult } from './cashReceipt';
export { notificationPayloadSchema, decodeEnum } from './schemas';
export * from './types';
