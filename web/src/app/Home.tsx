import { Navigate } from "react-router-dom";
import { useAuth } from "../shared/auth/AuthProvider";
import { NAV } from "./nav";

/** `/`: the first screen of the navigation the user's role may open (the dashboard for most;
 * approvals for an approver, inventory for the warehouse). */
export function Home() {
  const { can } = useAuth();
  const first = NAV.find((entry) => can(entry.permission));
  return <Navigate to={first?.path ?? "/profile"} replace />;
}
