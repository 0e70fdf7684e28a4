export const ROLES = ['viewer', 'editor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Roles are cumulative: an editor may do what a viewer may, an admin what an editor may. */
const RANK: Record<Role, number> = { viewer: 1, editor: 2, admin: 3 };

export function satisfies(roles: readonly string[], required: Role): boolean {
  return roles.some((r) => ((RANK as Record<string, number | undefined>)[r] ?? 0) >= RANK[required]);
}

/** The caller: the token's user, with the roles the store gives it now. */
export interface Actor {
  username: string;
  roles: Role[];
}

/** The roles this service knows, out of what a record or token lists. */
export function knownRoles(roles: readonly unknown[]): Role[] {
  return roles.filter((r): r is Role => ROLES.includes(r as Role));
}
