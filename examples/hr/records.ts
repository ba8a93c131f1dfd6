/** The HR server's record shapes. Employees belong to a tenant; salaries carry their history. */

export const DEPARTMENTS = ['Executive', 'HR', 'Sales', 'Engineering', 'Finance'] as const;
export type Department = (typeof DEPARTMENTS)[number];

export const CURRENCIES = ['EUR', 'USD', 'GBP', 'CHF'] as const;
export type Currency = (typeof CURRENCIES)[number];

export const EMPLOYEE_STATUSES = ['active', 'terminated'] as const;
export type EmployeeStatus = (typeof EMPLOYEE_STATUSES)[number];

export interface Salary {
  amount: number;
  currency: Currency;
  effective_date: string;
  reason: string;
}

export interface Employee {
  id: string;
  tenant: string;
  /** Login name of the person, e.g. "alice" — the same names toolgate's users carry. */
  username: string;
  name: string;
  email: string;
  title: string;
  department: Department;
  manager_id: string | null;
  location: string;
  hire_date: string;
  status: EmployeeStatus;
  termination?: { effective_date: string; reason: string };
  salary: Salary;
  salary_history: Salary[];
}

/** What list and search return: no compensation or termination details. */
export type EmployeeSummary = Pick<Employee, 'id' | 'tenant' | 'username' | 'name' | 'title' | 'department' | 'manager_id' | 'status'>;

export function summarize(e: Employee): EmployeeSummary {
  return { id: e.id, tenant: e.tenant, username: e.username, name: e.name, title: e.title, department: e.department, manager_id: e.manager_id, status: e.status };
}
