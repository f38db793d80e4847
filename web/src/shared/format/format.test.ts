import { describe, expect, it } from "vitest";
import { formatDate, formatMoney, sumMoney } from ".";

describe("formatMoney", () => {
  it("keeps every digit of an exact decimal string", () => {
    expect(formatMoney("12345678901234.57", "EUR", "en")).toContain("12,345,678,901,234.57");
  });
  it("formats per locale, always with the currency", () => {
    expect(formatMoney("1250.5", "EUR", "en")).toBe("€1,250.50");
    expect(formatMoney("1250.5", "TRY", "tr")).toMatch(/1\.250,50/);
    expect(formatMoney("1250.5", "BGN", "bg")).toMatch(/1\s?250,50/);
    expect(formatMoney("1250.5", "CNY", "zh")).toMatch(/1,250\.50/);
  });
  it("shows a dash for nothing", () => {
    expect(formatMoney(null, "EUR", "en")).toBe("—");
  });
});

describe("sumMoney", () => {
  it("adds decimal strings exactly", () => {
    expect(sumMoney(["0.1", "0.2"])).toBe("0.30");
    expect(sumMoney(["100.005", "-0.005", null])).toBe("100.00");
    expect(sumMoney(["-5", "2.5"])).toBe("-2.50");
  });
});

describe("formatDate", () => {
  it("reads a contract date without shifting it by the time zone", () => {
    expect(formatDate("2027-01-15", "en")).toBe("15 Jan 2027");
    expect(formatDate("2027-01-15", "zh")).toContain("2027");
  });
});
