/** A WHERE clause of AND-ed terms built one filter at a time, with its parameters in order. */
export class Where {
  private readonly terms: string[] = [];
  readonly params: unknown[] = [];

  constructor(term: string, ...values: unknown[]) {
    this.and(term, ...values);
  }

  and(term: string, ...values: unknown[]): this {
    this.terms.push(term);
    this.params.push(...values);
    return this;
  }

  toString(): string {
    return this.terms.join(" AND ");
  }
}
