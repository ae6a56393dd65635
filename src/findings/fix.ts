// Quick fixes as the findings model carries them: text edits in Go's
// coordinates (1-based lines, 1-based byte columns, the end exclusive), like
// every other position of a finding. Renderers and the language server
// convert them to UTF-16 where their formats count that way.

export interface TextEdit {
  /** The file, as the finding names it. */
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  /** What replaces the range (an insertion when the range is empty). */
  text: string;
}

export interface Fix {
  /** What it does, as an editor's code action names it. */
  title: string;
  /**
   * Safe fixes are applied by `check --fix` (and preferred in editors); the
   * others are suggestions that need the developer's judgement (an ignore
   * comment, a Pinner whose lifetime only the author knows).
   */
  safe: boolean;
  edits: TextEdit[];
}
