// Errors the CLI expects: a message naming the problem and a hint naming the fix; printed without a stack.
export class CliError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
