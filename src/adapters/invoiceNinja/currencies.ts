import { exponentOf } from '../../domain/money';

// Invoice Ninja identifies currencies by numeric id (database/seeders/CurrenciesSeeder.php; 1 = USD) and stores
// them as strings in settings.currency_id. Only currencies whose portal precision equals the ISO 4217 exponent used
// by src/domain/money.ts are listed: for the others (e.g. the portal rounds KRW and BHD to 2 places, PKR and HUF to
// 0) amounts could not be converted without loss, so they are unsupported rather than silently wrong.
export const IN_CURRENCY_CODES: Readonly<Record<string, string>> = {
  '1': 'USD', '2': 'GBP', '3': 'EUR', '4': 'ZAR', '5': 'DKK', '6': 'ILS', '7': 'SEK', '8': 'KES', '9': 'CAD',
  '10': 'PHP', '11': 'INR', '12': 'AUD', '13': 'SGD', '14': 'NOK', '15': 'NZD', '16': 'VND', '17': 'CHF',
  '18': 'GTQ', '19': 'MYR', '20': 'BRL', '21': 'THB', '22': 'NGN', '23': 'ARS', '24': 'BDT', '25': 'AED',
  '26': 'HKD', '27': 'IDR', '28': 'MXN', '29': 'EGP', '30': 'COP', '31': 'XOF', '32': 'CNY', '33': 'RWF',
  '34': 'TZS', '35': 'ANG', '36': 'TTD', '37': 'XCD', '38': 'GHS', '39': 'BGN', '40': 'AWG', '41': 'TRY',
  '42': 'RON', '43': 'HRK', '44': 'SAR', '45': 'JPY', '49': 'PLN', '51': 'CZK', '62': 'CLP', '63': 'ISK', '89': 'KWD',
};

const BY_CODE: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(IN_CURRENCY_CODES).map(([id, code]) => [code, id]),
);

export const USD_CURRENCY_ID = '1';

/** The portal currency id for an ISO code, or undefined when unsupported. */
export function currencyIdFor(code: string): string | undefined {
  return BY_CODE[code.toUpperCase()];
}

/** The ISO code for a portal currency id (number or string), or undefined when unsupported. */
export function currencyCodeFor(id: string | number | null | undefined): string | undefined {
  if (id === null || id === undefined || id === '') return undefined;
  return IN_CURRENCY_CODES[String(id)];
}

/** Decimal places the portal uses for a currency (equal to the ISO exponent for every listed currency). */
export function precisionOf(code: string): number {
  return exponentOf(code);
}
