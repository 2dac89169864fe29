// The one msgpack configuration that the server, the client and the tests share: plain msgpack
// maps (never msgpackr's record extension), so any msgpack library reads sigcast's frames, and
// 64-bit integers as numbers. Imported by the browser client too, so it stays dependency-free.
// The server decodes with it only after strict-data.ts has checked the bytes: no extension type
// (records included), no binary values, string keys only, no prototype keys, bounded depth.
export const MSGPACK_OPTIONS = { useRecords: false, mapsAsObjects: true, int64AsType: 'number' } as const;
