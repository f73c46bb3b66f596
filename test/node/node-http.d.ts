// @types/node is not installed (the tsconfig types are the Workers ones): the slice of
// node:http that the Chromium tests' page server and the webhook receiver use.
declare module "node:http" {
  export type IncomingHttpHeaders = Record<string, string | string[] | undefined>;
  export interface IncomingMessage {
    headers: IncomingHttpHeaders;
    url?: string;
    method?: string;
    setEncoding(encoding: string): void;
    on(event: "data", listener: (chunk: string) => void): this;
    on(event: "end", listener: () => void): this;
  }
  export interface ServerResponse {
    writeHead(status: number, headers?: Record<string, string>): this;
    end(body?: string): void;
  }
  export interface Server {
    listen(port: number, host: string, callback: () => void): this;
    address(): { port: number; address: string } | string | null;
    close(callback?: () => void): this;
  }
  export function createServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Server;
  const http: { createServer: typeof createServer };
  export default http;
}
