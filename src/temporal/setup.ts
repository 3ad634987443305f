import { temporal } from '@temporalio/proto';
import type { Client } from '@temporalio/client';
import { SearchAttributeType } from '@temporalio/common';
import { SEARCH_ATTRIBUTES } from './searchAttributes';

/** The server's indexed value type of each search attribute type (registration by API: a cluster, the test server). */
export const INDEXED: Record<string, temporal.api.enums.v1.IndexedValueType> = {
  [SearchAttributeType.KEYWORD]: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  [SearchAttributeType.INT]: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT,
  [SearchAttributeType.TEXT]: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
  [SearchAttributeType.DOUBLE]: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
  [SearchAttributeType.BOOL]: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
  [SearchAttributeType.DATETIME]: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
  [SearchAttributeType.KEYWORD_LIST]: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
};

/** Lists the custom search attributes the namespace has. */
export async function listCustomSearchAttributes(client: Client, namespace: string): Promise<Record<string, number>> {
  const res = await client.connection.operatorService.listSearchAttributes({ namespace });
  return Object.fromEntries(Object.entries(res.customAttributes ?? {}).map(([k, v]) => [k, Number(v)]));
}

/**
 * Registers the project's search attributes on a real cluster (the operator command `arsync temporal setup`).
 * Idempotent: attributes already present are left alone. Returns the names it added.
 */
export async function registerSearchAttributes(client: Client, namespace: string): Promise<string[]> {
  const existing = await listCustomSearchAttributes(client, namespace);
  const missing = SEARCH_ATTRIBUTES.filter((k) => !(k.name in existing));
  if (missing.length === 0) return [];
  await client.connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map((k) => [k.name, INDEXED[k.type]])),
  });
  return missing.map((k) => k.name);
}
