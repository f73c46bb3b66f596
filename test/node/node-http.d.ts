// @types/node is not installed; the part of node:http the webhook receiver uses.
declare module "node:http" {
  export type IncomingHttpHeaders = Record<string, string | string[] | undefined>;
  export interface IncomingMessage {
    headers: IncomingHttpHeaders;
    setEncoding(encoding: string): void;
    on(event: "data", listener: (chunk: string) => void): this;
    on(event: "end", listener: () => void): this;
  }
  export interface ServerResponse {
    writeHead(status: number): this;
    end(): void;
  }
  export interface Server {
    listen(port: number, host: string, callback: () => void): this;
    address(): { port: number } | string | null;
    close(): void;
  }
  export function createServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Server;
}
