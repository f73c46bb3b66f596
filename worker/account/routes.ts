/**
 * The `account` face: the hosted account pages on the app's auth host (selected by Host),
 * one module per flow: password reset (reset.ts), email verification (verify.ts), sign-in
 * by emailed code (email-code.ts). Their rules live below, in worker/recovery; their pages
 * in worker/ui/account.tsx.
 */
import { Hono } from "hono";
import { hostApp } from "../tenancy/host";
import type { AccountEnv } from "./context";
import { emailCodeRoutes } from "./email-code";
import { resetRoutes } from "./reset";
import { verifyRoutes } from "./verify";

export const accountRoutes = new Hono<AccountEnv>();
accountRoutes.use("/account/*", hostApp);
accountRoutes.route("/", resetRoutes);
accountRoutes.route("/", verifyRoutes);
accountRoutes.route("/", emailCodeRoutes);
