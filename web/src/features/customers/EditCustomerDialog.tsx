import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Form, Modal } from "antd";
import { useEffect } from "react";
import { useTranslation } from "react-i18next";
import { applyFieldErrors, ErrorAlert } from "../../shared/components/errors";
import { updateCustomer, type Customer } from "./api";
import { customerBody, CustomerFields } from "./CustomerForm";

/** Edit a customer: only the fields that changed are sent (PATCH); cleared texts are sent as null. */
export function EditCustomerDialog({ customer, open, onClose }: { customer: Customer; open: boolean; onClose: () => void }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [form] = Form.useForm();
  useEffect(() => {
    if (open) form.setFieldsValue(customer);
  }, [open, customer, form]);
  const save = useMutation({
    mutationFn: async () => {
      const values = await form.validateFields();
      const body: Record<string, unknown> = {};
      const cleaned = customerBody(values);
      for (const key of Object.keys(values)) {
        const before = (customer as Record<string, unknown>)[key];
        const after = key in cleaned ? cleaned[key] : null;
        if (JSON.stringify(before ?? null) !== JSON.stringify(after ?? null)) body[key] = after;
      }
      return updateCustomer(customer.id, body as never);
    },
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ["customers"] });
      onClose();
    },
    onError: (e) => applyFieldErrors(form, e),
  });
  return (
    <Modal open={open} title={t("common.edit")} width={900} onCancel={onClose} onOk={() => save.mutate()} confirmLoading={save.isPending} okText={t("common.save")}>
      <ErrorAlert error={save.error} />
      <Form form={form} layout="vertical">
        <CustomerFields form={form} redList={false} />
      </Form>
    </Modal>
  );
}
