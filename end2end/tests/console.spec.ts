import { type Locator, type Page, expect, test } from "@playwright/test";
import { admin, enterPassword, open, reload, signIn, snapshot, totp, twoStepAdmin, uniqueId, watchForErrors } from "./helpers";

// A JWKS with one P-256 public key, as a directory would publish it.
const directoryJwks = JSON.stringify(
  {
    keys: [
      {
        kty: "EC",
        crv: "P-256",
        kid: "directory-1",
        use: "sig",
        x: "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
        y: "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
      },
    ],
  },
  null,
  2,
);

test.describe("signing in", () => {
  test("pages need a session and send visitors to sign in", async ({ page }) => {
    const problems = watchForErrors(page);
    await open(page, "/app/default/workspaces");
    await expect(page).toHaveURL(/\/app\/login\?next=%2Fapp%2Fdefault%2Fworkspaces/);
    await expect(page.getByRole("heading", { name: "Sign in to the console" })).toBeVisible();
    await snapshot(page, "login");
    expect(problems).toEqual([]);
  });

  test("a wrong password is refused with a message, the right one gets in", async ({ page }) => {
    await open(page, "/app/login");
    await page.getByLabel("E-mail address").fill(admin.email);
    await page.getByLabel("Password").fill("not the password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("alert")).toContainText("not right");
    await expect(page).toHaveURL(/\/app\/login/);

    await signIn(page);
    await expect(page.getByRole("heading", { name: "Workspaces" })).toBeVisible();
    await expect(page.getByText(admin.email)).toBeVisible();
    await open(page, "/app/default/workspaces/obuk/applications");
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/app\/login/);
    // A page the browser's history kept leads back to the sign-in, not to a page of errors.
    await page.goBack();
    await expect(page).toHaveURL(/\/app\/login\?next=%2Fapp%2Fdefault%2Fworkspaces%2Fobuk%2Fapplications/);
    await open(page, "/app/default/workspaces");
    await expect(page).toHaveURL(/\/app\/login/);
  });

  test("administrators' activity lists a refused sign-in, a sign-out and a sign-in, with where each came from", async ({ page }) => {
    const problems = watchForErrors(page, [/status of 4\d\d/]);
    await open(page, "/app/login");
    await page.getByLabel("E-mail address").fill(admin.email);
    await page.getByLabel("Password").fill("not the password either");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("alert")).toContainText("not right");
    await signIn(page);
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/app\/login/);
    await signIn(page);

    await page.getByRole("link", { name: "Activity" }).click();
    await expect(page.getByRole("heading", { name: "Administrator activity" })).toBeVisible();
    const rows = page.locator("#administrator-events tbody tr");
    await expect(rows.filter({ hasText: "Signed in" }).filter({ hasText: admin.email }).first()).toBeVisible();
    await snapshot(page, "activity");
    for (const [type, label, outcome] of [
      ["sign_in_refused", "Sign-in refused", "failure"],
      ["signed_out", "Signed out", "success"],
    ]) {
      await page.getByLabel("Event").selectOption(type);
      await page.getByRole("button", { name: "Filter" }).click();
      // Only the filter chosen is in the address ("Any" and the button leave nothing).
      await expect(page).toHaveURL(new RegExp(`/app/activity\\?type=${type}$`));
      // Other tests sign in meanwhile: only this type's rows are left, this test's among them.
      await expect(rows.filter({ hasNotText: label })).toHaveCount(0);
      const ours = rows.filter({ hasText: admin.email }).first();
      await expect(ours).toContainText(outcome);
      await expect(ours).toContainText("127.0.0.1");
    }
    expect(problems).toEqual([]);
  });

  test("an administrator changes their password on their account page, then changes it back", async ({ page }) => {
    const problems = watchForErrors(page, [/status of 4\d\d/]);
    const changed = "E2e-Changed-Passw0rd-2026";
    await signIn(page);
    await page.getByRole("link", { name: admin.email }).click();
    await expect(page.getByRole("heading", { name: "Your account" })).toBeVisible();
    await expect(page.locator("#account-email")).toHaveText(admin.email);

    const fill = async (current: string, next: string, again: string) => {
      await page.getByLabel("Current password").fill(current);
      await page.getByLabel("New password", { exact: true }).fill(next);
      await page.getByLabel("New password again").fill(again);
      await page.getByRole("button", { name: "Change password" }).click();
    };
    await fill(admin.password, changed, "a typo in the second one");
    await expect(page.locator(".field-error")).toContainText("Does not match the new password");
    await expect(page.getByLabel("Current password")).toHaveValue(admin.password);
    // The message describes its input for assistive technology, and only while it shows.
    const confirm = page.getByLabel("New password again");
    await expect(confirm).toHaveAttribute("aria-invalid", "true");
    await expect(confirm).toHaveAccessibleDescription("Does not match the new password");
    await fill("not my password at all", changed, changed);
    await expect(page.locator(".field-error")).toContainText("That is not your password");
    await expect(page.getByLabel("Current password")).toHaveAccessibleDescription("That is not your password");
    await expect(confirm).not.toHaveAttribute("aria-invalid");
    await expect(confirm).not.toHaveAttribute("aria-describedby");
    await snapshot(page, "account");

    await fill(admin.password, changed, changed);
    try {
      await expect(page.locator("#password-changed")).toContainText("Password changed");
      await expect(page.getByLabel("Current password")).toHaveValue("");
      // Still signed in.
      await open(page, "/app/default/workspaces");
      await expect(page.getByRole("heading", { name: "Workspaces" })).toBeVisible();
    } finally {
      // Back to the password the other tests sign in with, whatever happened above.
      await open(page, "/app/account");
      await fill(changed, admin.password, admin.password);
      await expect(page.locator("#password-changed")).toContainText("Password changed");
    }
    expect(problems).toEqual([]);
  });

  test("an administrator sees where they are signed in and signs other browsers out", async ({ page, browser }) => {
    const problems = watchForErrors(page, [/status of 4\d\d/]);
    // A second browser, told apart by its User-Agent.
    const phone = await browser.newContext({
      userAgent: "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0",
    });
    const phonePage = await phone.newPage();
    try {
      await signIn(phonePage);
      await signIn(page, "/app/account");
      const sessions = page.locator("#own-sessions tbody tr");
      const current = sessions.filter({ hasText: "This browser" });
      await expect(current).toHaveCount(1);
      await expect(current).toContainText("127.0.0.1");
      await expect(current.getByRole("button")).toHaveCount(0);
      const phoneRows = sessions.filter({ hasText: "Firefox on Android" });
      await expect(phoneRows).toHaveCount(1);
      await snapshot(page, "sessions");

      await phoneRows.getByRole("button", { name: "Sign out Firefox on Android at 127.0.0.1" }).click();
      await expect(phoneRows).toHaveCount(0);
      // The phone is signed out at its next request.
      await phonePage.goto("/app/default/workspaces");
      await expect(phonePage).toHaveURL(/\/app\/login/);

      await signIn(phonePage);
      await reload(page);
      await expect(phoneRows).toHaveCount(1);
      await page.getByRole("button", { name: "Sign out all other sessions" }).click();
      await expect(page.locator("#sessions-ended")).toContainText(/other sessions? (was|were) signed out/);
      await expect(sessions).toHaveCount(1);
      await phonePage.goto("/app/default/workspaces");
      await expect(phonePage).toHaveURL(/\/app\/login/);
      // This browser is still signed in.
      await open(page, "/app/activity?type=sessions_ended");
      const ended = page.locator("#administrator-events tbody tr");
      await expect(ended.first()).toContainText("every other session");
      await expect(ended.nth(1)).toContainText("Firefox on Android, last used from 127.0.0.1");
    } finally {
      await phone.close();
    }
    expect(problems).toEqual([]);
  });

  test("a page warns before its session ends unused, stays signed in on request, and says when it has ended", async ({ page, baseURL }) => {
    const problems = watchForErrors(page, [/status of 401/]);
    // The page's timers run on a clock the test moves on.
    await page.clock.install();
    // The server's first answer is shortened to 90 seconds left, inside the warning's two
    // minutes; every later question and "Stay signed in" reach the server as they are.
    let shortened = false;
    await page.route("**/app/fn/session_remaining", async (route) => {
      const response = await route.fetch();
      if (shortened || !response.ok()) return route.fulfill({ response });
      shortened = true;
      return route.fulfill({ response, json: { ...(await response.json()), seconds: 90 } });
    });
    await signIn(page);
    const warning = page.getByRole("dialog", { name: "Your session is about to end" });
    await expect(warning).toBeVisible();
    await expect(warning).toContainText("You will be signed out in 1 minute 30 seconds");
    await expect(warning).toContainText("after 30 minutes without use");
    await expect(warning.getByRole("button", { name: "Stay signed in" })).toBeFocused();
    await snapshot(page, "session-ending");
    await page.clock.runFor(5_000);
    await expect(warning).toContainText("You will be signed out in 1 minute 25 seconds");
    await warning.getByRole("button", { name: "Stay signed in" }).click();
    await expect(warning).toBeHidden();

    // Signed out from elsewhere (here the same browser, behind the page's back): when the page
    // next asks, shortly before the idle time would run out, it says so.
    const signedOut = await page.request.post("/app/fn/sign_out", {
      headers: { Origin: new URL(baseURL ?? "").origin },
      maxRedirects: 0,
    });
    expect(signedOut.status()).toBeLessThan(400);
    await page.clock.fastForward("31:00");
    const ended = page.getByRole("dialog", { name: "You have been signed out" });
    await expect(ended).toBeVisible();
    await expect(ended.getByRole("button", { name: "Sign in again" })).toBeFocused();
    await snapshot(page, "session-ended");
    await ended.getByRole("button", { name: "Sign in again" }).click();
    await expect(page).toHaveURL(/\/app\/login\?next=%2Fapp%2Fdefault%2Fworkspaces/);
    expect(problems).toEqual([]);
  });

  test("an administrator turns on two-step sign-in with an authenticator app, then signs in with its code", async ({ page, browser }) => {
    const problems = watchForErrors(page, [/status of 4\d\d/]);
    await signIn(page, "/app/account", twoStepAdmin);
    const section = page.locator("section", { has: page.getByRole("heading", { name: "Two-step sign-in" }) });
    await expect(section.locator("#two-step-state")).toContainText("Off");
    await section.getByRole("button", { name: "Set up an authenticator app" }).click();
    await expect(section.getByRole("img", { name: "QR code for your authenticator app" })).toBeVisible();
    const secret = await section.getByLabel("Key, to type into the app").inputValue();
    await expect(section.getByRole("link", { name: "Open in an authenticator app on this device" })).toHaveAttribute(
      "href",
      new RegExp(`^otpauth://totp/Onboard:e2e-two-step%40bank\\.example\\?secret=${secret.replace(/ /g, "")}&issuer=Onboard$`),
    );
    expect(secret).toMatch(/^([A-Z2-7]{4} ){7}[A-Z2-7]{4}$/);
    // A code from a minute ahead is not the app's now.
    await section.getByLabel("Code from the app").fill(totp(secret, 2));
    await section.getByLabel("Your password").fill(twoStepAdmin.password);
    await section.getByRole("button", { name: "Turn on two-step sign-in" }).click();
    await expect(section.locator("#enable-code-error")).toContainText("The code is not right");
    await snapshot(page, "two-step-setup");
    await section.getByLabel("Code from the app").fill(totp(secret));
    await section.getByRole("button", { name: "Turn on two-step sign-in" }).click();
    await expect(section.locator("#two-step-state")).toContainText("On since");
    await expect(section.getByRole("img")).toHaveCount(0);
    // Ten recovery codes, shown this once.
    const recoveryCodes = await section.locator("#recovery-codes li").allTextContents();
    expect(recoveryCodes).toHaveLength(10);
    for (const recoveryCode of recoveryCodes) expect(recoveryCode).toMatch(/^[0-9a-z]{4}(-[0-9a-z]{4}){3}$/);
    await expect(section.getByRole("link", { name: "Download" })).toHaveAttribute("download", "onboard-recovery-codes.txt");
    await expect(section.locator("#recovery-codes-left")).toHaveText("You have 10 recovery codes left.");
    // A new password now takes a code too.
    await expect(page.getByLabel("Code from your app, or a recovery code").last()).toHaveAttribute("id", "password-code");
    await snapshot(page, "two-step-on");

    // Another browser: the password, then the code.
    const laptop = await browser.newContext();
    const laptopPage = await laptop.newPage();
    try {
      await enterPassword(laptopPage, "/app/account", twoStepAdmin);
      const code = laptopPage.getByLabel("Code from your authenticator app");
      await expect(code).toBeFocused();
      await snapshot(laptopPage, "sign-in-code");
      await code.fill(totp(secret, 3));
      await laptopPage.getByRole("button", { name: "Sign in" }).click();
      await expect(laptopPage.locator("#sign-in-error")).toContainText("The code is not right");
      // The next step's code: the one that turned it on is used.
      await code.fill(totp(secret, 1));
      await laptopPage.getByRole("button", { name: "Sign in" }).click();
      await expect(laptopPage).toHaveURL(/\/app\/account$/);
      await expect(laptopPage.locator("#two-step-state")).toContainText("On since");
    } finally {
      await laptop.close();
    }

    // A browser without the phone: a recovery code in place of the app's, once.
    const lost = await browser.newContext();
    const lostPage = await lost.newPage();
    try {
      await enterPassword(lostPage, "/app/account", twoStepAdmin);
      await lostPage.getByRole("button", { name: "Lost your phone? Use a recovery code" }).click();
      const recovery = lostPage.getByLabel("Recovery code");
      await expect(recovery).toBeFocused();
      await snapshot(lostPage, "sign-in-recovery-code");
      await recovery.fill(recoveryCodes[0].toUpperCase());
      await lostPage.getByRole("button", { name: "Sign in" }).click();
      await expect(lostPage).toHaveURL(/\/app\/account$/);
      await expect(lostPage.locator("#recovery-codes-left")).toHaveText("You have 9 recovery codes left.");
    } finally {
      await lost.close();
    }
    await open(page, "/app/administrators");
    const row = page.locator("#administrators tbody tr", { hasText: twoStepAdmin.email });
    // How many recovery codes each has left (never which): one used of ten.
    await expect(row.locator("td").nth(4).locator(".badge")).toHaveText("On");
    await expect(row.locator("td").nth(4).locator(".recovery-left")).toHaveText("9 recovery codes left");
    await snapshot(page, "administrators-two-step");
    await open(page, "/app/activity?type=two_step_enabled");
    await expect(page.locator("#administrator-events tbody tr").first()).toContainText(twoStepAdmin.email);
    expect(problems).toEqual([]);
  });

  test("the Administrators page lists who can sign in, this administrator marked", async ({ page }) => {
    const problems = watchForErrors(page);
    await signIn(page);
    await page.getByRole("link", { name: "Administrators" }).click();
    await expect(page.getByRole("heading", { name: "Administrators" })).toBeVisible();
    const me = page.locator("#administrators tbody tr", { hasText: admin.email });
    await expect(me).toContainText("You");
    await expect(me).toContainText(/\d+ sessions?/);
    await expect(me).toContainText("Not locked");
    await expect(me).not.toContainText("Never");
    await snapshot(page, "administrators");
    expect(problems).toEqual([]);
  });

  test("the sign-in form works from the keyboard alone", async ({ page }) => {
    await open(page, "/app/login");
    await expect(page.getByLabel("E-mail address")).toBeFocused();
    await page.keyboard.type(admin.email);
    await page.keyboard.press("Tab");
    await expect(page.getByLabel("Password")).toBeFocused();
    await page.keyboard.type(admin.password);
    await page.keyboard.press("Enter");
    await expect(page.getByRole("heading", { name: "Workspaces" })).toBeVisible();
    // Focus moves to the new page's content; Tab goes on from there, with a focus ring.
    await expect(page.locator("main")).toBeFocused();
    await page.keyboard.press("Tab");
    const focused = await page.evaluate(() => {
      const element = document.activeElement as HTMLElement;
      return { tag: element.tagName, ring: getComputedStyle(element).outlineStyle };
    });
    expect(["A", "BUTTON", "INPUT", "SELECT"]).toContain(focused.tag);
    expect(focused.ring).not.toBe("none");
  });

  test("server functions refuse requests without a session", async ({ request, baseURL }) => {
    const response = await request.post("/app/fn/list_workspaces", {
      form: { tenant: "default" },
      headers: { Origin: new URL(baseURL ?? "").origin },
    });
    expect(response.status()).toBe(401);
    const crossSite = await request.post("/app/fn/sign_in", {
      form: { email: admin.email, password: admin.password },
      headers: { Origin: "https://evil.example" },
    });
    expect(crossSite.status()).toBe(403);
  });
});

test.describe("workspaces", () => {
  test.beforeEach(async ({ page }) => {
    await signIn(page);
  });

  test("the directory lists workspaces and creates one, with errors at the field", async ({ page }) => {
    const problems = watchForErrors(page, [/status of 4\d\d/]);
    await expect(page.locator("#workspace-cards")).toContainText("Open Banking UK");
    await snapshot(page, "workspaces");

    await page.getByLabel("ID", { exact: true }).fill("obuk");
    await page.getByLabel("Name").fill("Duplicate");
    await page.getByRole("button", { name: "Create workspace" }).click();
    await expect(page.locator(".field-error")).toContainText("already exists");

    const id = uniqueId("sandbox");
    await page.getByLabel("ID", { exact: true }).fill(id);
    await page.getByLabel("Name").fill("Sandbox");
    await page.getByLabel("Profile").selectOption("generic");
    await page.getByRole("button", { name: "Create workspace" }).click();
    await expect(page).toHaveURL(new RegExp(`/app/default/workspaces/${id}/dcr`));
    await expect(page.getByRole("heading", { name: "Dynamic client registration" })).toBeVisible();

    // An address naming no workspace says so once, with the way back, and no tabs.
    await open(page, "/app/default/workspaces/no-such-workspace/dcr");
    await expect(page.locator("#workspace-unavailable")).toContainText("Workspace not found.");
    await expect(page.locator(".sidebar-links")).toBeHidden();
    await expect(page.getByRole("heading", { name: "Dynamic client registration" })).toBeHidden();
    expect(problems).toEqual([]);
  });

  test("DCR settings are saved and kept; a bad JWKS is refused at its field and nothing changes", async ({ page }) => {
    const problems = watchForErrors(page, [/status of 4\d\d/]);
    const id = uniqueId("dcr");
    await page.getByLabel("ID", { exact: true }).fill(id);
    await page.getByLabel("Name").fill("DCR test");
    await page.getByRole("button", { name: "Create workspace" }).click();
    await expect(page).toHaveURL(new RegExp(`${id}/dcr`));
    await expect(page.locator("#registration-endpoint")).toHaveValue(new RegExp(`/default/${id}/openbankinguk/dcr/v3.2/register`));

    // Switched on with nothing configured: every missing piece is named at once, at its field,
    // and the first one gets the focus.
    await page.getByRole("switch", { name: "Enable dynamic client registration" }).check();
    await expect(page.locator("#open-banking-departures")).toHaveCount(0);
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect(page.locator(".field-error")).toHaveCount(2);
    await expect(page.getByText("2 settings need attention")).toBeVisible();
    await expect(page.locator("#ssa-0-issuer")).toBeFocused();

    // A private key pasted as the directory's keys: refused at the field, nothing saved.
    await page.locator("#ssa-0-issuer").fill("OpenBanking Ltd");
    await page.locator("#ssa-0-jwks").fill(directoryJwks.replace('"use": "sig"', '"use": "sig", "d": "secret"'));
    await page.getByRole("switch", { name: "Require mutual TLS" }).uncheck();
    // An Open Banking UK workspace says what its settings leave out of the profile.
    await expect(page.locator("#open-banking-departures")).toContainText("Mutual TLS is not required");
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect(page.locator(".field-error", { hasText: "private key material" })).toBeVisible();
    await expect(page.locator(".field-error")).toHaveCount(1);
    await expect(page.getByRole("status").filter({ hasText: "Not saved" })).toBeVisible();
    // Unsaved changes are said beside the Save button; a link elsewhere asks first, and so
    // does a reload.
    await expect(page.locator(".unsaved-note")).toBeVisible();
    page.once("dialog", (dialog) => dialog.dismiss());
    await page.locator(".sidebar").getByRole("link", { name: "Policies" }).click();
    await expect(page).toHaveURL(new RegExp(`${id}/dcr`));
    const asked = new Promise<string>((resolve) => page.once("dialog", (dialog) => { resolve(dialog.type()); void dialog.accept(); }));
    await page.reload();
    expect(await asked).toBe("beforeunload");
    await expect(page.getByRole("switch", { name: "Enable dynamic client registration" })).not.toBeChecked();
    await expect(page.locator(".unsaved-note")).toBeHidden();

    // Software statement and signed body with a pasted JWKS: saved, and kept after a reload.
    await page.getByRole("switch", { name: "Enable dynamic client registration" }).check();
    await page.locator("#ssa-0-issuer").fill("OpenBanking Ltd");
    await page.locator("#ssa-0-jwks").fill(directoryJwks);
    await page.getByRole("switch", { name: "Signed request body" }).check();
    await page.getByRole("switch", { name: "Require mutual TLS" }).uncheck();
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect(page.getByRole("status").filter({ hasText: "DCR settings saved" })).toBeVisible();
    await expect(page.locator(".unsaved-note")).toBeHidden();
    await snapshot(page, "dcr-settings");
    await page.reload();
    await expect(page.getByRole("switch", { name: "Enable dynamic client registration" })).toBeChecked();
    await expect(page.getByRole("switch", { name: "Protected by software statement" })).toBeChecked();
    await expect(page.getByRole("switch", { name: "Signed request body" })).toBeChecked();
    await expect(page.locator("#ssa-0-jwks")).toHaveValue(/directory-1/);
    await expect(page.locator("#ssa-0-issuer")).toHaveValue("OpenBanking Ltd");
    await expect(page.locator(".sidebar")).toContainText("DCR on");

    // Each issuer has keys of its own. An empty row is no change; a second issuer given the
    // first one's keys is warned about (either could sign statements in the other's name).
    await page.getByRole("button", { name: "Add an issuer" }).click();
    await expect(page.locator(".unsaved-note")).toBeHidden();
    await page.locator("#ssa-1-issuer").fill("Another Directory");
    await page.locator("#ssa-1-jwks").fill(directoryJwks);
    await expect(page.getByRole("note").filter({ hasText: "OpenBanking Ltd and Another Directory are given the same keys" })).toBeVisible();
    await snapshot(page, "dcr-settings-two-issuers");
    // Named twice: refused at the second row. Taken out, no problem is left on the first.
    await page.locator("#ssa-1-issuer").fill("OpenBanking Ltd");
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect(page.locator(".issuer-row").nth(1).locator(".field-error")).toContainText("listed twice");
    await expect(page.locator(".issuer-row").nth(0).locator(".field-error")).toHaveCount(0);
    await page.getByRole("button", { name: "Remove issuer 2" }).click();
    await expect(page.locator("#ssa-1-issuer")).toHaveCount(0);
    await expect(page.locator(".issuer-row .field-error")).toHaveCount(0);
    await expect(page.getByText("are given the same keys")).toHaveCount(0);
    await expect(page.locator(".unsaved-note")).toBeHidden();

    // A JWKS URI can be tried before saving: the key ids it serves, or why it failed.
    await page.locator("#ssa-0-keys-jwks_uri").check();
    await page.locator("#ssa-0-jwks-uri").fill(new URL("/default/obuk/.well-known/jwks.json", page.url()).href);
    await page.getByRole("button", { name: "Test" }).first().click();
    await expect(page.locator(".probe.ok")).toContainText(/Found 1 key: [A-Za-z0-9_-]{43}/);
    // A row keeps its elements while others come and go: its Test result stays, and the rows
    // after a removed one move up a number with what was typed in them.
    await page.getByRole("button", { name: "Add an issuer" }).click();
    await page.getByRole("button", { name: "Add an issuer" }).click();
    await page.getByRole("group", { name: "Issuer 3", exact: true }).getByLabel("Name (iss)").fill("Third Directory");
    await page.getByRole("button", { name: "Remove issuer 2" }).click();
    await expect(page.getByRole("group", { name: "Issuer 2", exact: true }).getByLabel("Name (iss)")).toHaveValue("Third Directory");
    await expect(page.getByRole("group", { name: "Issuer 3", exact: true })).toHaveCount(0);
    await expect(page.locator(".probe.ok")).toBeVisible();
    await page.getByRole("button", { name: "Remove issuer 2" }).click();
    await expect(page.locator(".issuer-row")).toHaveCount(1);
    await expect(page.locator(".probe.ok")).toBeVisible();
    await expect(page.getByRole("button", { name: "Add an issuer" })).toBeFocused();
    await page.locator("#ssa-0-jwks-uri").fill(new URL("/default/no-such-workspace/.well-known/jwks.json", page.url()).href);
    await page.getByRole("button", { name: "Test" }).first().click();
    await expect(page.locator(".probe.error")).toBeVisible();

    // A section switched off still verifies what is sent anyway: a problem in it shows the
    // section, with the problem at its field, and nothing is saved.
    await page.locator("#ssa-0-keys-jwks").check();
    await page.locator("#request-keys-jwks").check();
    await page.locator("#request-jwks").fill("not a key set");
    await page.getByRole("switch", { name: "Signed request body" }).uncheck();
    await expect(page.locator("#request-jwks")).toBeHidden();
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Not saved" })).toBeVisible();
    await expect(page.locator("#request-jwks")).toBeVisible();
    await expect(page.locator(".field", { has: page.locator("#request-jwks") }).locator(".field-error")).toBeVisible();
    await expect(page.locator(".nested", { has: page.locator("#request-jwks") }).getByText("Switched off, but kept")).toBeVisible();

    // The audit log says what each save changed: here, which directory was trusted with which keys.
    page.once("dialog", (dialog) => dialog.accept());
    await page.locator(".sidebar").getByRole("link", { name: "Audit log" }).click();
    const change = page.locator("#audit-events tr", { hasText: "DCR settings changed" }).first();
    await expect(change).toContainText("registration switched on: issuer 'OpenBanking Ltd' trusted, verified with a pasted JWKS (key 'directory-1')");
    await expect(change).toContainText("mutual TLS no longer required");
    await snapshot(page, "audit-log-dcr-change");
    expect(problems).toEqual([]);
  });

  test("a registration made through the API appears with the DCR label, opens, and is deleted; refusals are in the audit log", async ({ page, request }) => {
    const problems = watchForErrors(page, [/status of 4\d\d/]);
    const id = uniqueId("apps");
    await page.getByLabel("ID", { exact: true }).fill(id);
    await page.getByLabel("Name").fill("Apps");
    await page.getByLabel("Profile").selectOption("generic");
    await page.getByRole("button", { name: "Create workspace" }).click();
    await expect(page).toHaveURL(new RegExp(`${id}/dcr`));
    await page.getByRole("switch", { name: "Enable dynamic client registration" }).check();
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect(page.getByRole("status").filter({ hasText: "DCR settings saved" })).toBeVisible();

    const register = `/default/${id}/oauth2/register`;
    const accepted = await request.post(register, {
      data: { client_name: "Budget Planner", grant_types: ["client_credentials"], scope: "openid" },
    });
    expect(accepted.status()).toBe(201);
    const registration = await accepted.json();
    const clientId = registration.client_id as string;
    const refused = await request.post(register, { data: { redirect_uris: ["http://app.example/callback"] } });
    expect(refused.status()).toBe(400);
    // The client gets a token, which the Applications view shows as its last.
    const basic = `Basic ${Buffer.from(`${clientId}:${registration.client_secret}`).toString("base64")}`;
    const issued = await request.post(`/default/${id}/oauth2/token`, {
      form: { grant_type: "client_credentials", scope: "openid" },
      headers: { Authorization: basic },
    });
    expect(issued.status()).toBe(200);
    const accessToken = (await issued.json()).access_token as string;
    const management = `${register}/${clientId}`;
    const registrationToken = registration.registration_access_token as string;
    // An unbound access token, which any resource server it reached could replay, manages
    // nothing; the registration access token does (RFC 7592).
    expect((await request.get(management, { headers: { Authorization: `Bearer ${accessToken}` } })).status()).toBe(401);
    expect((await request.get(management, { headers: { Authorization: `Bearer ${registrationToken}` } })).status()).toBe(200);

    await page.getByRole("link", { name: "Applications" }).click();
    const row = page.locator("#applications tr", { hasText: "Budget Planner" });
    await expect(row).toContainText("DCR");
    await expect(row).toContainText(clientId);
    await expect(row.locator("td").last()).not.toHaveText("never");
    await snapshot(page, "applications");
    await page.getByRole("link", { name: "DCR", exact: true }).click();
    await expect(page.locator("#applications")).toContainText("Budget Planner");
    await page.getByRole("link", { name: "Manual", exact: true }).click();
    await expect(page.getByText("No applications match.")).toBeVisible();
    // Just registered and used: not abandoned.
    await page.getByRole("link", { name: "Abandoned", exact: true }).click();
    await expect(page.getByText("No applications match.")).toBeVisible();

    await page.getByRole("link", { name: "DCR", exact: true }).click();
    await page.getByRole("link", { name: "Budget Planner" }).click();
    await expect(page.getByRole("heading", { name: "Budget Planner" })).toBeVisible();
    await expect(page.locator("#metadata")).toContainText(clientId);
    await snapshot(page, "application");
    // The question takes the focus, and Cancel gives it back to the button that asked.
    await page.getByRole("button", { name: "Delete application" }).click();
    await expect(page.getByRole("button", { name: "Yes, delete" })).toBeFocused();
    await page.getByRole("button", { name: "Cancel" }).click();
    await expect(page.getByRole("button", { name: "Delete application" })).toBeFocused();
    await page.getByRole("button", { name: "Delete application" }).click();
    await page.getByRole("button", { name: "Yes, delete" }).click();
    await expect(page).toHaveURL(new RegExp(`${id}/applications`));
    await expect(page.locator("#done-notice")).toHaveText(`Application ${clientId} deleted.`);
    await expect(page.getByText(/^No applications yet\./)).toBeVisible();
    // Deleted: its token no longer opens its registration, and its secret gets no new token.
    expect((await request.get(management, { headers: { Authorization: `Bearer ${registrationToken}` } })).status()).toBe(401);
    const again = await request.post(`/default/${id}/oauth2/token`, {
      form: { grant_type: "client_credentials", scope: "openid" },
      headers: { Authorization: basic },
    });
    expect(again.status()).toBe(401);

    await page.getByRole("link", { name: "Audit log" }).click();
    const tokenIssued = page.locator("#audit-events tr", { hasText: "Token issued" });
    await expect(tokenIssued).toContainText(`client ${clientId}, scope openid`);
    await page.getByLabel("Outcome").selectOption("failure");
    await page.getByRole("button", { name: "Filter" }).click();
    const rejection = page.locator("#audit-events tr", { hasText: "Registration refused" });
    await expect(rejection).toContainText("invalid_redirect_uri");
    await expect(rejection).toContainText("plain http only for a loopback address");
    await snapshot(page, "audit-log");
    expect(problems).toEqual([]);
  });

  test("a manual client's secret is shown once; its page changes it into a resource server", async ({ page }) => {
    const problems = watchForErrors(page, [/status of 4\d\d/]);
    // While the workspace allows no client secrets, the manual client form does not offer one.
    await open(page, "/app/default/workspaces/obuk/applications");
    await page.getByRole("button", { name: "New manual client" }).click();
    await expect(page.getByLabel("Authentication").locator("option")).toHaveText([
      "tls_client_auth (certificate)",
      "private_key_jwt (signed assertion)",
    ]);
    await open(page, "/app/default/workspaces/obuk/general");
    await expect(page.locator("#secret-methods-note")).toContainText("serves manually created clients");
    await page.locator("#check-client_secret_basic").check();
    // A limit out of bounds is refused at its field, and nothing is saved.
    await page.getByLabel("Registrations per IP address").fill("2000000");
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Not saved" })).toBeVisible();
    await expect(page.locator(".field", { hasText: "Registrations per IP address" }).locator(".field-error")).toContainText(
      "Must be at most 1000000",
    );
    // Every problem is told at once, each at its field.
    await page.getByLabel("Registrations per IP address").fill("-5");
    await page.getByLabel("Lifetime (seconds)").fill("10");
    const crls = page.getByLabel("Certificate revocation lists");
    await crls.fill("http://10.0.0.9/issuing-ca.crl");
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect(
      page.locator(".field", { hasText: "Registrations per IP address" }).locator(".field-error", { hasText: "Must be a whole number, 0 or more" }),
    ).toBeVisible();
    await expect(page.locator(".field", { has: page.locator("#ttl") }).locator(".field-error")).toContainText("Must be between 60 and 86400");
    await expect(page.locator(".field", { has: crls }).locator(".field-error")).toContainText("not an address outbound fetches may reach");
    await page.getByLabel("Lifetime (seconds)").fill("3600");
    await page.getByLabel("Registrations per IP address").fill("120");
    // A saved list that cannot be fetched is shown as such: client certificates are refused meanwhile.
    await crls.fill("http://127.0.0.1:9/issuing-ca.crl");
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect(page.getByRole("status").filter({ hasText: "General settings saved" })).toBeVisible();
    await expect(page.locator(".crl-statuses .probe.error")).toContainText(
      "could not be fetched: connection failed. Client certificates are refused until a usable list is fetched.",
    );
    await page.locator(".field", { has: crls }).scrollIntoViewIfNeeded();
    await snapshot(page, "general-settings-revocation-list");
    await crls.fill("");
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect(page.locator(".crl-statuses")).toBeHidden();
    // The other tabs follow the saved settings at once, without a reload.
    await page.locator(".sidebar").getByRole("link", { name: "Applications" }).click();
    await page.getByRole("button", { name: "New manual client" }).click();
    await expect(page.getByLabel("Authentication").locator("option")).toContainText(["client_secret_basic (secret)"]);
    await open(page, "/app/default/workspaces/obuk/general");
    await expect(page.getByLabel("Registrations per IP address")).toHaveValue("120");
    await expect(page.locator("#check-client_secret_basic")).toBeChecked();
    await snapshot(page, "general-settings");

    await open(page, "/app/default/workspaces/obuk/applications");
    await page.getByRole("button", { name: "New manual client" }).click();
    await page.getByLabel("Name", { exact: true }).fill("Onboarding portal");
    // Keys typed for another method, then hidden by the change of method, are not sent.
    await page.getByLabel("Authentication").selectOption("private_key_jwt");
    await page.locator("#mc-jwks").fill("not a key set");
    await page.getByLabel("Authentication").selectOption("client_secret_basic");
    // A portal, not a resource server: it may introspect its own tokens only.
    await expect(page.getByLabel("May introspect any token of this workspace")).not.toBeChecked();
    await snapshot(page, "manual-client-form");
    await page.getByRole("button", { name: "Create client" }).click();
    await expect(page.locator("#created-client-secret")).toHaveValue(/^[A-Za-z0-9_-]{36}$/);
    await expect(page.locator("#mc-name"), "the form closes: a second click makes no twin").toBeHidden();
    await expect(page.locator("#applications")).toContainText("Onboarding portal");
    await expect(page.locator("#applications tr", { hasText: "Onboarding portal" })).toContainText("Manual");

    // Its page changes it: made a resource server, it may introspect every token.
    await page.locator("#applications").getByRole("link", { name: "Onboarding portal" }).click();
    await expect(page.locator("#introspection")).toHaveText("Its own tokens only");
    await expect(page.getByLabel("Authentication")).toHaveValue("client_secret_basic");
    await page.getByLabel("Name", { exact: true }).fill("Accounts API");
    await page.getByLabel("Scopes").fill("accounts");
    await page.getByLabel("May introspect any token of this workspace").check();
    await expect(page.getByText("Unsaved changes")).toBeVisible();
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Application saved" })).toBeVisible();
    await expect(page.locator("#introspection")).toHaveText("Any token of this workspace");
    await expect(page.getByRole("heading", { level: 1 })).toContainText("Accounts API");
    await expect(page.locator("#metadata")).toContainText('"may_introspect": true');
    await expect(page.getByText("Unsaved changes")).toBeHidden();
    await snapshot(page, "application-change");
    await page.locator(".sidebar").getByRole("link", { name: "Audit log" }).click();
    await expect(page.locator("#audit-events tr", { hasText: "Client changed" })).toContainText(
      "changed client_name, scope, may_introspect on",
    );
    expect(problems).toEqual([]);
  });
  test("a signing key is rotated after a confirmation; the replaced one stays published", async ({ page, request }) => {
    const problems = watchForErrors(page);
    const id = uniqueId("keys");
    await page.getByLabel("ID", { exact: true }).fill(id);
    await page.getByLabel("Name").fill("Key rotation");
    await page.getByLabel("Profile").selectOption("generic");
    await page.getByRole("button", { name: "Create workspace" }).click();
    await expect(page).toHaveURL(new RegExp(`${id}/dcr`));
    await open(page, `/app/default/workspaces/${id}/general`);

    const keys = page.locator("#signing-key-list tbody tr");
    await expect(keys).toHaveCount(1);
    await expect(keys.nth(0)).toContainText("PS256");
    await expect(keys.nth(0)).toContainText("Signs tokens");
    const first = (await keys.nth(0).locator("td").first().innerText()).trim();

    // Cancelling changes nothing; confirming makes a new key.
    await page.getByRole("button", { name: "Rotate…" }).click();
    await expect(page.getByRole("alertdialog")).toContainText("Make a new PS256 key?");
    await page.getByRole("button", { name: "Cancel" }).click();
    await expect(page.getByRole("alertdialog")).toBeHidden();
    await expect(keys).toHaveCount(1);
    await page.getByRole("button", { name: "Rotate…" }).click();
    await page.getByRole("button", { name: "Yes, rotate" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Signing key rotated" })).toBeVisible();
    await expect(keys).toHaveCount(2);
    await expect(keys.nth(0)).toContainText("Signs tokens");
    await expect(keys.nth(1)).toContainText(first);
    await expect(keys.nth(1)).toContainText("Published until");
    await snapshot(page, "signing-keys");

    const jwks = await (await request.get(`/default/${id}/.well-known/jwks.json`)).json();
    const published = jwks.keys.map((key: { kid: string }) => key.kid);
    const newest = (await keys.nth(0).locator("td").first().innerText()).trim();
    expect(published).toEqual(expect.arrayContaining([first, newest]));

    // A planned rotation publishes its key first; withdrawn, it goes before signing anything.
    await page.getByLabel("When the new key signs").selectOption({ label: "after publishing it for a day" });
    await page.getByRole("button", { name: "Rotate…" }).click();
    await expect(page.getByRole("alertdialog")).toContainText("Publish a new PS256 key now? It signs every token 24 hours from now");
    await page.getByRole("button", { name: "Yes, publish it" }).click();
    await expect(page.getByRole("status").filter({ hasText: "New signing key published" })).toBeVisible();
    await expect(keys).toHaveCount(3);
    await expect(keys.nth(0)).toContainText("Next: signs from");
    await expect(keys.nth(1)).toContainText("Signs tokens");
    await page.locator("#signing-keys").scrollIntoViewIfNeeded();
    await snapshot(page, "signing-keys-planned");
    await keys.nth(0).getByRole("button", { name: "Withdraw" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Planned key withdrawn" })).toBeVisible();
    await expect(keys).toHaveCount(2);
    await expect(keys.nth(0)).toContainText(newest);

    // The audit log says who rotated it, besides the workspace's other changes.
    await page.locator(".sidebar").getByRole("link", { name: "Audit log" }).click();
    const rotation = page.locator("#audit-events tr", { hasText: `new PS256 key ${newest}` });
    await expect(rotation).toContainText("Signing key rotated");
    await expect(page.locator("#audit-events tr", { hasText: "Planned signing key withdrawn" })).toBeVisible();
    await expect(rotation).toContainText(/by \S+@\S+/);
    await snapshot(page, "audit-log-administration");
    expect(problems).toEqual([]);
  });

  test("a change made a while after the password was given asks for it first, then is made", async ({ page }) => {
    const problems = watchForErrors(page, [/status of 4\d\d/]);
    const id = uniqueId("confirm");
    await page.getByLabel("ID", { exact: true }).fill(id);
    await page.getByLabel("Name").fill("Confirmation test");
    await page.getByRole("button", { name: "Create workspace" }).click();
    await expect(page).toHaveURL(new RegExp(`${id}/dcr`));
    // The server answers the first save as it does once --console-confirm-minutes have passed
    // since this session last gave the password (the Rust tests move its clock); everything
    // after, the confirmation and the save made again, reaches the server as it is.
    let refuseNext = true;
    await page.route("**/app/fn/save_dcr_settings", async (route) => {
      if (!refuseNext) return route.continue();
      refuseNext = false;
      return route.fulfill({ status: 403, contentType: "text/plain", body: "ServerError|Confirm your password to do this." });
    });
    const protect = page.getByRole("switch", { name: "Protect by access token" });
    await protect.check();
    await page.getByRole("button", { name: "Save changes" }).click();
    const dialog = page.getByRole("dialog", { name: "Confirm it's you" });
    await expect(dialog).toBeVisible();
    await expect(dialog.getByLabel("Password")).toBeFocused();
    // It names the change waiting, and how long a given password counts.
    await expect(dialog).toContainText("To save the DCR settings, confirm your password");
    await expect(dialog).toContainText(/more than \d+ minutes? ago/);

    // A wrong password is refused where it was typed; the right one makes the change asked.
    await confirmWith(page, dialog, "not the password at all");
    await expect(dialog.locator(".field-error")).toContainText("That is not your password");
    await expect(dialog.getByLabel("Password")).toBeFocused();
    await expect(dialog.getByLabel("Password")).toHaveAttribute("aria-invalid", "true");
    await snapshot(page, "confirm-password");
    await confirmWith(page, dialog, admin.password);
    await expect(dialog).toBeHidden();
    await expect(page.getByRole("status").filter({ hasText: "DCR settings saved" })).toBeVisible();
    await reload(page);
    await expect(protect).toBeChecked();

    // Cancelled, nothing is made, and the form says why.
    refuseNext = true;
    await protect.uncheck();
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect(dialog).toBeVisible();
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await expect(dialog).toBeHidden();
    await expect(page.getByText("Confirm your password to do this.")).toBeVisible();
    await expect(page.locator(".unsaved-note")).toBeVisible();
    await page.reload();
    await expect(protect).toBeChecked();
    expect(problems).toEqual([]);
  });
});

test("the console is readable on a phone", async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await signIn(page, "/app/default/workspaces/obuk/dcr");
  await expect(page.getByRole("heading", { name: "Dynamic client registration" })).toBeVisible();
  await snapshot(page, "dcr-phone");
});

/**
 * Gives `password` in the dialog that asks for it again. Confirming counts against the same
 * 20 a minute from one address as signing in: told to wait (429), it waits and sends again.
 */
async function confirmWith(page: Page, dialog: Locator, password: string) {
  await dialog.getByLabel("Password").fill(password);
  for (let attempt = 1; ; attempt++) {
    const answered = page.waitForResponse((response) => new URL(response.url()).pathname === "/app/fn/confirm_password");
    await dialog.getByRole("button", { name: "Confirm and continue" }).click();
    const answer = await answered;
    const wait = answer.status() === 429 ? /try again in (\d+) second/i.exec(await answer.text()) : null;
    if (!wait) return;
    if (attempt === 5) throw new Error(`confirmation still throttled after ${attempt} attempts`);
    await page.waitForTimeout(Number(wait[1]) * 1000 + 100);
  }
}
