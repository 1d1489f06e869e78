/**
 * What the Responses dialect needs from storage (src/db/responses-store.ts implements it; the
 * route passes the instance in). Records of another client key, and expired ones, read as absent.
 */
export type StoredItem = Record<string, unknown>;

export type StoredRecord = {
  id: string;
  clientKeyId: string;
  createdAt: number;
  response: Record<string, unknown>;
  input: StoredItem[];
  output: StoredItem[];
};

export interface ResponseStorage {
  get(id: string, clientKeyId: string): StoredRecord | undefined;
  save(r: StoredRecord, ttlMs: number): void;
  delete(id: string, clientKeyId: string): boolean;
}
