// What the analysis of one package counts, summed into the check's statistics.

export interface PackageStats {
  files: number;
  bytes: number;
  functions: number;
  analyzed: number;
  partial: number;
  aborted: number;
  syntaxErrors: number;
  unreadable: number;
  /** Packages whose headers were read through the C preprocessor, or could not be. */
  headersRead: number;
  headersUnavailable: number;
  /** C units (preambles, .c files) the clang analyzer ran on, could not compile or ran out of time on, or could not run on (no clang). */
  cAnalyzed: number;
  cAnalyzerFailed: number;
  cAnalyzerUnavailable: number;
}

export function emptyStats(): PackageStats {
  return { files: 0, bytes: 0, functions: 0, analyzed: 0, partial: 0, aborted: 0, syntaxErrors: 0, unreadable: 0, headersRead: 0, headersUnavailable: 0, cAnalyzed: 0, cAnalyzerFailed: 0, cAnalyzerUnavailable: 0 };
}
