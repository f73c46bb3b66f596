// The slice of node:http the Chromium tests' app server uses (the project has no @types/node;
// tsconfig types are the Workers ones).
declare module "node:http" {
  export interface IncomingMessage {
    headers: Record<string, string | string[] | undefined>;
    url?: string;
    method?: string;
  }
  export interface ServerResponse {
    writeHead(status: number, headers?: Record<string, string>): ServerResponse;
    end(body?: string): void;
  }
  export interface Server {
    listen(port: number, host: string, callback: () => void): Server;
    address(): { port: number; address: string } | string | null;
    close(callback?: () => void): Server;
  }
  export function createServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Server;
  const http: { createServer: typeof createServer };
  export default http;
}
