import { expect, test } from "@playwright/test";
import { open, signIn, snapshot, uniqueId, watchForErrors } from "./helpers";

test.beforeEach(async ({ page }) => {
  await signIn(page);
});

test("a validator policy refuses a registration with its rule's description, and the dry run agrees", async ({ page, request }) => {
  const problems = watchForErrors(page, [/status of 4\d\d/]);
  const id = uniqueId("pol");
  await page.getByLabel("ID", { exact: true }).fill(id);
  await page.getByLabel("Name").fill("Policies");
  await page.getByLabel("Profile").selectOption("generic");
  await page.getByRole("button", { name: "Create workspace" }).click();
  await expect(page).toHaveURL(new RegExp(`${id}/dcr`));
  await page.getByRole("switch", { name: "Enable dynamic client registration" }).check();
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(page.getByRole("status").filter({ hasText: "DCR settings saved" })).toBeVisible();

  // Write the policy: two rules, reorder them, drop one.
  await page.locator(".sidebar").getByRole("link", { name: "Policies" }).click();
  await expect(page.getByText("No policies yet.")).toBeVisible();
  await page.getByRole("link", { name: "New policy" }).click();
  await page.getByLabel("Name").fill("Reserved names");
  await page.getByLabel("ID", { exact: true }).fill("reserved-names");
  const rules = page.locator("ol.rules > li");
  await rules.nth(0).getByLabel("Field").fill("request.client_name");
  await rules.nth(0).getByLabel("Comparator").selectOption("not_equals");
  await rules.nth(0).getByLabel("Value").fill("Forbidden App");
  await expect(rules.nth(0).locator(".value-preview")).toHaveText('Compared with the text "Forbidden App".');
  await rules.nth(0).getByLabel("Error description").fill("that name is reserved");
  await page.getByRole("button", { name: "Add rule" }).click();
  await rules.nth(1).getByLabel("Field").fill("request.grant_types");
  await rules.nth(1).getByLabel("Comparator").selectOption("contains");
  await rules.nth(1).getByLabel("Value").fill("client_credentials");
  await rules.nth(1).getByLabel("Error description").fill("client_credentials is required");
  await rules.nth(1).getByRole("button", { name: "Move up" }).click();
  await expect(rules.nth(0).getByLabel("Field")).toHaveValue("request.grant_types");
  await rules.nth(0).getByRole("button", { name: "Remove rule" }).click();
  await expect(rules).toHaveCount(1);
  await expect(rules.nth(0).getByLabel("Field")).toHaveValue("request.client_name");

  // A rule with a bad pattern is refused at its field.
  await page.getByRole("button", { name: "Add rule" }).click();
  await rules.nth(1).getByLabel("Field").fill("request.client_name");
  await rules.nth(1).getByLabel("Comparator").selectOption("regex");
  await rules.nth(1).getByLabel("Value").fill("(unclosed");
  await rules.nth(1).getByLabel("Error description").fill("bad");
  await page.getByRole("button", { name: "Save policy" }).click();
  await expect(rules.nth(1).locator(".field-error")).toContainText("Not a usable pattern");
  await expect(page.locator(".alert.error")).toHaveCount(0);
  // Its problem moves with it: moved up, the rule keeps it, and the other rule gets none.
  await rules.nth(1).getByRole("button", { name: "Move up" }).click();
  await expect(rules.nth(0).locator(".field-error")).toContainText("Not a usable pattern");
  await expect(rules.nth(1).locator(".field-error")).toHaveCount(0);
  await rules.nth(0).getByRole("button", { name: "Remove rule" }).click();
  await expect(page.locator("ol.rules .field-error")).toHaveCount(0);

  await page.getByRole("button", { name: "Save policy" }).click();
  await expect(page).toHaveURL(new RegExp(`${id}/policies/reserved-names/edit`));
  await expect(page.locator("#done-notice")).toContainText("Policy reserved-names created.");
  await expect(page.getByLabel("Name")).toHaveValue("Reserved names");
  await snapshot(page, "policy-editor");

  // Attach it to the register endpoint.
  await page.locator(".sidebar").getByRole("link", { name: "Dynamic client registration" }).click();
  await page.getByLabel("Dynamic client registration policy").selectOption("reserved-names");
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(page.getByRole("status").filter({ hasText: "DCR settings saved" })).toBeVisible();
  await page.reload();
  await expect(page.getByLabel("Dynamic client registration policy")).toHaveValue("reserved-names");
  await page.locator(".sidebar").getByRole("link", { name: "Policies" }).click();
  await expect(page.locator("#policies tr", { hasText: "Reserved names" })).toContainText("Attached");
  await snapshot(page, "policies");
  // Attached, it cannot be deleted, and its page says so before anything is tried.
  await page.getByRole("link", { name: "Reserved names" }).click();
  await expect(page.getByRole("button", { name: "Delete policy" })).toBeDisabled();
  await expect(page.getByText("This policy protects the register endpoint, so it cannot be deleted")).toBeVisible();
  await page.locator(".sidebar").getByRole("link", { name: "Policies" }).click();

  // A registration that breaks the rule is refused with its description; another passes.
  const register = `/default/${id}/oauth2/register`;
  const claims = { client_name: "Forbidden App", grant_types: ["client_credentials"], scope: "openid" };
  const refused = await request.post(register, { data: claims });
  expect(refused.status()).toBe(400);
  expect(await refused.json()).toEqual({ error: "invalid_client_metadata", error_description: "that name is reserved" });
  const accepted = await request.post(register, { data: { ...claims, client_name: "Budget Planner" } });
  expect(accepted.status()).toBe(201);

  // The dry run shows the same verdict, rule by rule.
  await page.locator(".sidebar").getByRole("link", { name: "Dry run" }).click();
  // Nothing to check is said at the field, and nothing runs.
  await page.getByRole("button", { name: "Run the checks" }).click();
  await expect(page.locator(".field-error")).toContainText("Paste the registration request");
  await expect(page.locator("#dry-run-report")).toHaveCount(0);
  await page.getByLabel("Registration request").fill(JSON.stringify(claims, null, 2));
  await page.getByRole("button", { name: "Run the checks" }).click();
  const report = page.locator("#dry-run-report");
  await expect(report.locator(".verdict")).toContainText("Refused (400)");
  await expect(report.locator(".verdict")).toContainText("that name is reserved");
  await expect(report.locator(".pipeline-check.failed")).toContainText("request.client_name not_equals");
  await expect(report.locator(".pipeline-check.passed").first()).toBeVisible();
  await snapshot(page, "dry-run");

  await page.getByLabel("Registration request").fill(JSON.stringify({ ...claims, client_name: "Budget Planner" }));
  await page.getByRole("button", { name: "Run the checks" }).click();
  await expect(report.locator(".verdict")).toContainText("Accepted");
  expect(problems).toEqual([]);
});

test("a Rego policy with a syntax error is refused with its line, and nothing is saved", async ({ page }) => {
  const problems = watchForErrors(page, [/status of 4\d\d/]);
  await open(page, "/app/default/workspaces/obuk/policies/new");
  await page.getByLabel("Name").fill("Broken Rego");
  await page.getByLabel("ID", { exact: true }).fill(uniqueId("rego"));
  await page.getByLabel("Rego", { exact: true }).check();
  await page.getByLabel("Rego module").fill("package onboard\n\nallow if {\n    input.request.scope ==\n");
  await page.getByRole("button", { name: "Save policy" }).click();
  await expect(page.locator(".field-error")).toContainText(/^Line \d+, column \d+: /);
  await expect(page).toHaveURL(/policies\/new$/);
  expect(problems).toEqual([]);
});
