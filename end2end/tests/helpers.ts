import { expect, type Page } from "@playwright/test";
import { createHmac } from "node:crypto";

export const admin = {
  email: process.env.E2E_ADMIN_EMAIL ?? "admin@bank.example",
  password: process.env.E2E_ADMIN_PASSWORD ?? "correct horse battery staple",
};

/** An administrator of their own for turning two-step sign-in on (made by `scripts/e2e.sh`). */
export const twoStepAdmin = {
  email: process.env.E2E_TWO_STEP_EMAIL ?? "two-step@bank.example",
  password: process.env.E2E_TWO_STEP_PASSWORD ?? "another horse battery staple",
};

/**
 * The code an authenticator app set up with the base32 `secret` shows, `steps` time steps
 * (of 30 seconds) from now: RFC 6238, HMAC-SHA1, six digits.
 */
export function totp(secret: string, steps = 0): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const bits = [...secret.replace(/[\s=]/g, "").toUpperCase()]
    .map((c) => alphabet.indexOf(c).toString(2).padStart(5, "0"))
    .join("");
  const key = Buffer.from((bits.match(/.{8}/g) ?? []).map((byte) => parseInt(byte, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30_000) + steps));
  const hash = createHmac("sha1", key).update(counter).digest();
  const offset = hash[hash.length - 1] & 0xf;
  return ((hash.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).toString().padStart(6, "0");
}

/** Opens a console page and waits until it is hydrated, so its forms are handled by the app. */
export async function open(page: Page, path: string) {
  await page.goto(path);
  await page.locator("body[data-hydrated]").waitFor();
}

/** Reloads a console page and waits until it is hydrated again: a click before that is the
 * bare server-rendered element's, undone when the app takes the page over. */
export async function reload(page: Page) {
  await page.reload();
  await page.locator("body[data-hydrated]").waitFor();
}

/** Signs in through the form, waiting for hydration so the form is handled by the app. */
export async function signIn(page: Page, next = "/app/default/workspaces", who = admin) {
  await enterPassword(page, next, who);
  await expect(page).toHaveURL(new RegExp(next.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
}

/**
 * The sign-in page's first step: the address and password, sent (two-step sign-in then asks for a code).
 * The console takes 20 sign-ins a minute from one address, and the suite signs in more often than
 * that: told to wait (429), it waits as long as the answer says and sends again, as a person would.
 */
export async function enterPassword(page: Page, next: string, who = admin) {
  await open(page, `/app/login?next=${encodeURIComponent(next)}`);
  await page.getByLabel("E-mail address").fill(who.email);
  await page.getByLabel("Password").fill(who.password);
  for (let attempt = 1; ; attempt++) {
    const answered = page.waitForResponse((response) => new URL(response.url()).pathname === SIGN_IN);
    await page.getByRole("button", { name: "Sign in" }).click();
    const answer = await answered;
    // Only the address's rate: an account locked for minutes is the test's to see.
    const wait = answer.status() === 429 ? /too many sign-ins from this address: try again in (\d+) second/i.exec(await answer.text()) : null;
    if (!wait) return;
    if (attempt === 5) throw new Error(`sign-in still throttled after ${attempt} attempts`);
    await page.waitForTimeout(Number(wait[1]) * 1000 + 100);
  }
}

/** The server function the sign-in form sends to. */
const SIGN_IN = "/app/fn/sign_in";

/** A fresh workspace id for one test. */
export function uniqueId(prefix: string) {
  return `${prefix}-${Date.now().toString(36)}${Math.floor(Math.random() * 1000)}`;
}

/** Collects page and console errors; a test fails if any happen (a failed hydration shows here). */
export function watchForErrors(page: Page, allow: RegExp[] = []) {
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    // A sign-in told to wait, which `enterPassword` waits out, is no problem of the page.
    const waitedOut = /status of 429/.test(message.text()) && message.location().url.endsWith(SIGN_IN);
    if (message.type() === "error" && !waitedOut && !allow.some((pattern) => pattern.test(message.text()))) {
      problems.push(`console error: ${message.text()}`);
    }
  });
  return problems;
}

/**
 * Saves a screenshot of the whole page as a screen that tall would show it: the viewport grows to
 * the page's height first, so the sticky top bar and save bar sit where they belong.
 */
export async function snapshot(page: Page, name: string) {
  const viewport = page.viewportSize() ?? { width: 1280, height: 720 };
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  await page.setViewportSize({ width: viewport.width, height: Math.max(height, viewport.height) });
  await page.screenshot({ path: `screenshots/${name}.png`, animations: "disabled" });
  await page.setViewportSize(viewport);
}
