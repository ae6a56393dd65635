// snappyjs ships no types: the two functions used here (snappy's block format).
declare module 'snappyjs' {
  export function compress(data: Uint8Array): Uint8Array;
  export function uncompress(data: Uint8Array): Uint8Array;
}
