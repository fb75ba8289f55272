import { expect, test } from "@playwright/test";

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
});
