import { expect, test } from "@playwright/test";

// Any script error or console error (a failed hydration shows up here) fails the test.
test.beforeEach(async ({ page }) => {
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console error: ${message.text()}`);
  });
  (page as unknown as { problems: string[] }).problems = problems;
});

test.afterEach(async ({ page }) => {
  const problems = (page as unknown as { problems: string[] }).problems;
  expect(problems, problems.join("\n")).toEqual([]);
});

test("the console is served and hydrates", async ({ page }) => {
  await page.goto("/");
  await expect(page).toHaveURL(/\/app$/);
  await expect(page).toHaveTitle("Onboard");
  await expect(page.getByRole("heading", { name: "System status" })).toBeVisible();
  await expect(page.locator("#status-facts")).toContainText("reachable");
  await expect(page.locator("#status-checked")).toContainText("(check 1)");

  // A click before the wasm has loaded does nothing, so retry until hydration answers.
  const button = page.getByRole("button", { name: "Check again" });
  await expect(async () => {
    await button.click();
    await expect(page.locator("#status-checked")).not.toContainText("(check 1)", { timeout: 500 });
  }).toPass({ timeout: 15_000 });
  await expect(page.locator("#status-checked")).toContainText(/\(check [2-9]\)/);

  await page.screenshot({ path: "screenshots/status.png", fullPage: true });
});

test("the console is readable on a phone", async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto("/app");
  await expect(page.getByRole("heading", { name: "Console" })).toBeVisible();
  await page.screenshot({ path: "screenshots/status-phone.png", fullPage: true });
});

test("unknown pages answer with a way back", async ({ page }) => {
  const response = await page.goto("/app/nowhere");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("link", { name: "Go to the console" })).toBeVisible();
  // The browser reports the 404 document itself as a console error: expected here.
  const problems = (page as unknown as { problems: string[] }).problems;
  problems.splice(0, problems.length, ...problems.filter((p) => !p.includes("status of 404")));
});
