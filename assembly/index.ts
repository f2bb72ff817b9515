// Placeholder: the page-frame bitmap core lands with issue 2.
export function version(): i32 {
  return 1;
}
