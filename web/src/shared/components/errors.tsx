import { Alert, type FormInstance } from "antd";
import { useTranslation } from "react-i18next";
import { ApiError } from "../api/client";

/** Words for an error a user can act on: 409s explained, 403/404/503 named. */
export function useErrorText() {
  const { t } = useTranslation();
  return (error: unknown): string => {
    if (error instanceof ApiError) {
      switch (error.status) {
        case 401:
          return t("errors.unauthorized");
        case 403:
          return t("errors.forbidden");
        case 404:
          return t("errors.notFound");
        case 409:
          return `${t("errors.conflict")} ${error.message}`;
        case 412:
          return t("errors.stale");
        case 413:
          return t("errors.tooLarge");
        case 422:
          return `${t("errors.invalid")} ${error.message}`;
        case 429:
          return t("errors.tooMany");
        case 503:
        case 504:
          return t("errors.unavailable");
        default:
          return error.message || t("errors.unexpected");
      }
    }
    if (error instanceof TypeError) return t("errors.network");
    return error instanceof Error ? error.message : t("errors.unexpected");
  };
}

export function ErrorAlert({ error, style }: { error: unknown; style?: React.CSSProperties }) {
  const text = useErrorText();
  if (!error) return null;
  return <Alert type="error" showIcon title={text(error)} style={{ marginBottom: 16, ...style }} role="alert" />;
}

/**
 * Puts a 422's field reasons next to the fields they name (`lines.0.quantity` → ["lines", 0,
 * "quantity"]). Screens show the ErrorAlert too, for reasons that name no field on the form.
 */
export function applyFieldErrors(form: FormInstance, error: unknown): void {
  if (!(error instanceof ApiError) || error.status !== 422) return;
  const fields = Object.entries(error.fieldErrors()).map(([name, errors]) => ({
    name: name.split(".").map((part) => (/^\d+$/.test(part) ? Number(part) : part)),
    errors,
  }));
  if (fields.length) form.setFields(fields as never);
}
