/** The scopes an upstream needs for one tool: its own entry in the map, else "*", else none. */
export function scopesFor(map: Record<string, string[]>, tool: string): readonly string[] {
  return map[tool] ?? map['*'] ?? [];
}
