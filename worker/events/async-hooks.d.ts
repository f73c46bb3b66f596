// workerd provides node:async_hooks under nodejs_compat; @types/node is not installed,
// so this declares the part the outbox waker uses.
declare module "node:async_hooks" {
  export class AsyncLocalStorage<T> {
    run<R>(store: T, fn: () => R): R;
    getStore(): T | undefined;
  }
}
