/** Log lines of a node at level warn, except its start-up banner, as report notes. */
export function nodeLogNotes(name: string, log: string): string[] {
  const lines = log.split('\n').filter((l) => l.trim() !== '' && !/^(Wheelhouse (master|replica) |\s+pip install )/.test(l));
  if (lines.length === 0) return [];
  const shown = lines.slice(0, 5).map((l) => `  \`${l.slice(0, 300)}\``);
  return [`${name} log (level warn) has ${lines.length} line(s); first ${shown.length}:\n${shown.join('\n')}`];
}
