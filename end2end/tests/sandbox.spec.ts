import { expect, test } from "@playwright/test";
import { open, signIn, snapshot, uniqueId, watchForErrors } from "./helpers";

test("a sandbox TPP is made, refused while the workspace does not trust it, then registered in one click and downloaded", async ({ page }) => {
  const problems = watchForErrors(page, [/status of 4\d\d/]);
  await signIn(page);
  const workspace = uniqueId("tpp");
  await page.getByLabel("ID", { exact: true }).fill(workspace);
  await page.getByLabel("Name").fill("TPP sandbox");
  await page.getByRole("button", { name: "Create workspace" }).click();
  await expect(page).toHaveURL(new RegExp(`${workspace}/dcr`));

  await page.getByRole("link", { name: "Sandbox TPPs" }).click();
  await expect(page.getByRole("heading", { name: "Sandbox TPPs" })).toBeVisible();
  await expect(page.locator("#sandbox-trust")).toContainText("Dynamic client registration is off");

  // A bad software id is refused at its field; a good one is made with its keys.
  const softwareId = `Budget${Date.now().toString(36)}`;
  await page.getByLabel("Software ID").fill("not an id");
  await page.getByLabel("Organisation ID").fill("0015800001SANDBOX");
  await page.getByLabel("Organisation name").fill("Budget Planner Ltd");
  await page.getByLabel("Client name").fill("Budget Planner");
  await page.getByLabel("Redirect URIs").fill("https://budget.example/callback");
  await page.getByRole("button", { name: "Make sandbox TPP" }).click();
  await expect(page.locator(".field-error")).toContainText("letters or digits");
  await page.getByLabel("Software ID").fill(softwareId);
  await page.getByLabel("PISP").check();
  await page.getByRole("button", { name: "Make sandbox TPP" }).click();
  await expect(page.locator("#sandbox-created")).toContainText(softwareId);
  const row = page.locator("#sandbox-tpps tr", { hasText: softwareId });
  await expect(row).toContainText("AISP, PISP");
  await expect(row).toContainText("Budget Planner Ltd (0015800001SANDBOX)");

  // DCR is off: the endpoint's refusal is shown as it answered.
  await row.getByRole("button", { name: "Register here" }).click();
  await expect(page.locator(".verdict.refused")).toContainText("Refused (403)");
  await expect(page.locator("#sandbox-answer")).toContainText("access_denied");

  // One switch in the DCR tab, and the same click registers it.
  await open(page, `/app/default/workspaces/${workspace}/dcr`);
  await page.getByRole("switch", { name: "Enable dynamic client registration" }).check();
  await page.getByRole("switch", { name: "Trust the sandbox directory" }).check();
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(page.getByRole("status").filter({ hasText: "DCR settings saved" })).toBeVisible();
  await page.getByRole("link", { name: "Sandbox TPPs" }).click();
  await expect(page.locator("#sandbox-trust")).toHaveCount(0);
  await row.getByRole("button", { name: "Register here" }).click();
  await expect(page.locator(".verdict.accepted")).toContainText("Registered (201)");
  await expect(page.locator("#sandbox-answer")).toContainText(`"software_id": "${softwareId}"`);
  await expect(page.locator("#sandbox-answer")).toContainText("not shown in the console");
  await snapshot(page, "sandbox-tpps");

  // The bundle downloads as a zip named after the software.
  const [download] = await Promise.all([page.waitForEvent("download"), row.getByRole("button", { name: "Download bundle" }).click()]);
  expect(download.suggestedFilename()).toBe(`${softwareId}-bundle.zip`);

  // The client is in Applications, with the DCR label.
  await page.locator(".verdict.accepted a").click();
  await expect(page.getByRole("heading", { name: "Budget Planner" })).toBeVisible();
  await expect(page.locator("main")).toContainText("DCR");
  expect(problems).toEqual([]);
});
