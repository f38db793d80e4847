// What each role may do, as the gateway enforces it (gateway/gateway/routes/*: require_roles).
// Screens show an action only when `can(action)` holds, so a click never ends in a 403.
export type Role =
  | "admin"
  | "sales_manager"
  | "sales_rep"
  | "finance"
  | "approver"
  | "warehouse"
  | "readonly"
  | "portal";

const STAFF: Role[] = ["admin", "sales_manager", "sales_rep", "finance", "approver", "warehouse", "readonly"];
const SALES: Role[] = ["admin", "sales_manager", "sales_rep"];
// billing's readers (gateway routes/billing.py STAFF) and the dashboard's (routes/dashboard.py READERS)
const MONEY_READERS: Role[] = ["admin", "finance", "sales_manager", "sales_rep", "approver", "readonly"];
const DASHBOARD_READERS: Role[] = ["admin", "finance", "sales_manager", "sales_rep", "readonly"];

export const PERMISSIONS = {
  "dashboard.view": DASHBOARD_READERS,
  "customers.view": STAFF,
  "customers.write": SALES,
  "customers.import": ["admin", "sales_manager"],
  "opportunities.view": STAFF,
  "opportunities.write": SALES,
  "contracts.view": STAFF,
  "contracts.write": SALES,
  "contracts.bulk": ["admin", "sales_manager"],
  "contracts.lock": ["admin", "finance"],
  "templates.view": STAFF,
  "templates.write": ["admin", "sales_manager"],
  "approvals.view": STAFF,
  "approvals.decide": ["admin", "approver", "sales_manager", "finance"],
  "approvalFlows.manage": ["admin"],
  "invoices.view": MONEY_READERS,
  "invoices.write": ["admin", "finance"],
  "payments.record": ["admin", "finance", "sales_manager", "sales_rep"],
  "payments.confirm": ["admin", "finance"],
  "billingRuns.view": ["admin", "sales_manager", "finance", "approver", "readonly"],
  "billingRuns.start": ["admin", "finance"],
  "reports.view": MONEY_READERS,
  "inventory.view": STAFF,
  "catalogue.write": ["admin", "warehouse", "sales_manager"],
  "priceLists.write": ["admin", "sales_manager", "finance"],
  "stock.move": ["admin", "warehouse"],
  "stock.reserve": ["admin", "warehouse", "sales_manager"],
  "warehouses.write": ["admin", "warehouse"],
  "tradeIns.view": ["admin", "sales_manager", "sales_rep", "warehouse"],
  "tradeIns.decide": ["admin", "approver"],
  "tasks.view": STAFF,
  "notifications.view": STAFF,
  "admin.users": ["admin"],
  "admin.jobs": ["admin"],
  "admin.rules": ["admin"],
  "admin.webhooks": ["admin"],
  "portal.invite": ["admin", "sales_manager", "sales_rep"],
} satisfies Record<string, Role[]>;

export type Permission = keyof typeof PERMISSIONS;

export function allowed(roles: readonly string[], permission: Permission): boolean {
  const granted: readonly string[] = PERMISSIONS[permission];
  return roles.some((r) => granted.includes(r));
}
