// `cgoguard lsp`: a language server over stdio. Diagnostics for open Go
// files (the trace as related information), re-analysis of the edited
// package from the editor's buffers shortly after each edit, quick fixes as
// code actions. An edit during an analysis of its package cancels that run;
// the configuration and its contracts are read again before every analysis,
// and at once when the client reports them changed.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TextDocument } from 'vscode-languageserver-textdocument';
import {
  createConnection,
  DidChangeWatchedFilesNotification,
  FileChangeType,
  ProposedFeatures,
  TextDocuments,
  TextDocumentSyncKind,
  CodeActionKind,
  type CodeAction,
  type Connection,
  type InitializeParams,
  type InitializeResult,
} from 'vscode-languageserver/node';
import type { Finding } from '../findings/finding.js';
import type { Fix } from '../findings/fix.js';
import { withFixes } from '../fix/index.js';
import { CONFIG_NAMES } from '../workspace/config.js';
import { Analyzer } from './analyzer.js';
import { overlaps, Texts, toCodeActions, toDiagnostic } from './convert.js';
import { Project } from './project.js';

/** Quiet time after an edit before the analysis starts: typing bursts become one run. */
const DEBOUNCE_MS = 20;

interface Published {
  version: number;
  findings: Finding[];
  /** The buffers the analysis read (fixes are computed against these texts). */
  buffers: Map<string, string>;
  fixes?: Promise<Map<Finding, Fix[]>>;
}

interface Run {
  uris: Set<string>;
  ids: number[];
  cancelled: boolean;
}

export function runLanguageServer(version: string): Promise<void> {
  // The protocol owns stdout.
  console.log = console.error;
  // Given the streams themselves, the connection also ends the process when the client closes stdin.
  const connection = createConnection(ProposedFeatures.all, process.stdin, process.stdout);
  const server = new Server(connection, version);
  server.listen();
  return new Promise((resolve) => connection.onExit(resolve));
}

class Server {
  private readonly documents = new TextDocuments(TextDocument);
  private readonly analyzer = new Analyzer();
  private project!: Project;
  private readonly published = new Map<string, Published>();
  private readonly dirty = new Set<string>();
  private current?: Run;
  private busy = false;
  private timer?: NodeJS.Timeout;
  private lastConfigError?: string;

  constructor(
    private readonly connection: Connection,
    private readonly version: string,
  ) {}

  listen(): void {
    const c = this.connection;
    c.onInitialize((p) => this.initialize(p));
    c.onInitialized(() => this.watchFiles());
    this.documents.onDidOpen((e) => this.changed(e.document.uri));
    this.documents.onDidChangeContent((e) => this.changed(e.document.uri));
    this.documents.onDidSave((e) => {
      if (CONFIG_NAMES.includes(path.basename(e.document.uri))) this.configMayHaveChanged();
    });
    this.documents.onDidClose((e) => {
      this.dirty.delete(e.document.uri);
      this.published.delete(e.document.uri);
      void c.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
    });
    c.onDidChangeWatchedFiles((p) => {
      const names = p.changes.map((ch) => ({ file: fileURLToPath(ch.uri), type: ch.type }));
      if (names.some((n) => CONFIG_NAMES.includes(path.basename(n.file)) || /\.ya?ml$/.test(n.file))) this.configMayHaveChanged();
      if (names.some((n) => n.file.endsWith('.go') && n.type !== FileChangeType.Changed)) this.project.forgetPackages();
      if (names.some((n) => /\.(go|c|h)$/.test(n.file))) this.allChanged();
    });
    c.onCodeAction((p) => this.codeActions(p.textDocument.uri, p.range));
    c.onShutdown(() => this.analyzer.close());
    this.documents.listen(c);
    c.listen();
  }

  private initialize(p: InitializeParams): InitializeResult {
    const folder = p.workspaceFolders?.[0]?.uri ?? p.rootUri;
    const root = folder ? fileURLToPath(folder) : process.cwd();
    this.project = new Project(root, (m) => this.connection.console.info(`cgoguard: ${m}`));
    this.dynamicWatch = !!p.capabilities.workspace?.didChangeWatchedFiles?.dynamicRegistration;
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental, save: { includeText: false } },
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
      },
      serverInfo: { name: 'cgoguard', version: this.version },
    };
  }

  private dynamicWatch = false;

  /** Asks the client to report changes of Go and C files and of the configuration, when it can. */
  private watchFiles(): void {
    if (!this.dynamicWatch) return;
    void this.connection.client.register(DidChangeWatchedFilesNotification.type, {
      watchers: [{ globPattern: '**/*.{go,c,h}' }, ...CONFIG_NAMES.map((n) => ({ globPattern: `**/${n}` })), { globPattern: '**/*.{yaml,yml}' }],
    });
  }

  private configMayHaveChanged(): void {
    const r = this.project.refreshConfig();
    this.reportConfigError(r.error);
    if (r.changed) this.allChanged();
  }

  private reportConfigError(error: string | undefined): void {
    if (error && error !== this.lastConfigError) void this.connection.window.showErrorMessage(`cgoguard: ${error} (the previous configuration stays in use)`);
    this.lastConfigError = error;
  }

  private allChanged(): void {
    for (const d of this.documents.all()) this.changed(d.uri);
  }

  /** A document changed: analyse its package soon, and stop an analysis of it that is under way. */
  private changed(uri: string): void {
    if (!uri.startsWith('file:') || !uri.endsWith('.go')) return;
    this.dirty.add(uri);
    if (this.current?.uris.has(uri) && !this.current.cancelled) {
      this.current.cancelled = true;
      for (const id of this.current.ids) this.analyzer.cancelUpTo(id);
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.pump(), DEBOUNCE_MS);
  }

  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.dirty.size) {
        const uri = this.dirty.values().next().value!;
        this.dirty.delete(uri);
        const doc = this.documents.get(uri);
        if (doc) await this.analyseDocument(doc);
      }
    } catch (e) {
      this.connection.console.error(`cgoguard: internal error: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      this.busy = false;
    }
  }

  private async analyseDocument(doc: TextDocument): Promise<void> {
    const started = performance.now();
    this.reportConfigError(this.project.refreshConfig().error);
    const file = fileURLToPath(doc.uri);
    const buffers = new Map<string, string>();
    const versions = new Map<string, number>();
    const uriOf = new Map<string, string>();
    for (const d of this.documents.all()) {
      if (!d.uri.startsWith('file:')) continue;
      const p = fileURLToPath(d.uri);
      buffers.set(p, d.getText());
      versions.set(d.uri, d.version);
      uriOf.set(p, d.uri);
    }
    const findings = new Map<string, Finding[]>();
    for (const target of await this.project.packagesOf(file, doc.getText())) {
      const run: Run = { uris: new Set(target.pkg.files.flatMap((f) => (uriOf.has(f.path) ? [uriOf.get(f.path)!] : []))), ids: [], cancelled: false };
      for (const u of run.uris) this.dirty.delete(u);
      this.current = run;
      this.connection.console.info(`cgoguard: analysing ${target.pkg.importPath}`);
      const done = await this.project.analyse(target, buffers, this.analyzer, (id) => run.ids.push(id), () => run.cancelled);
      this.current = undefined;
      if (!done) {
        this.connection.console.info(`cgoguard: analysis of ${target.pkg.importPath} cancelled: superseded by an edit`);
        for (const u of run.uris) this.dirty.add(u);
        return;
      }
      const texts = new Texts(this.project.root, buffers);
      for (const u of run.uris) findings.set(u, findings.get(u) ?? []);
      for (const f of done.result.findings) {
        const u = uriOf.get(texts.abs(f.file));
        if (u && run.uris.has(u)) findings.get(u)!.push(f);
      }
      const ms = Math.round(performance.now() - started);
      this.connection.console.info(`cgoguard: analysed ${target.pkg.importPath} in ${ms} ms (${done.analysed} function(s) analysed, ${done.reused} reused; ${done.result.findings.length} finding(s))`);
    }
    const texts = new Texts(this.project.root, buffers);
    for (const [uri, list] of findings) {
      const now = this.documents.get(uri);
      // A document edited meanwhile gets the diagnostics of its next run.
      if (!now || now.version !== versions.get(uri)) continue;
      this.published.set(uri, { version: now.version, findings: list, buffers });
      void this.connection.sendDiagnostics({ uri, version: now.version, diagnostics: list.map((f) => toDiagnostic(f, texts)) });
    }
  }

  private async codeActions(uri: string, range: { start: { line: number; character: number }; end: { line: number; character: number } }): Promise<CodeAction[]> {
    const doc = this.documents.get(uri);
    const pub = this.published.get(uri);
    if (!doc || !pub || pub.version !== doc.version) return [];
    const texts = new Texts(this.project.root, pub.buffers);
    pub.fixes ??= withFixes(pub.findings, (file) => {
      const text = texts.text(file);
      return text === undefined ? undefined : { file, path: texts.abs(file), text };
    }).then((list) => new Map(list.map((f, i) => [pub.findings[i], f.fixes ?? []])));
    const fixes = await pub.fixes;
    const actions: CodeAction[] = [];
    for (const f of pub.findings) {
      const d = toDiagnostic(f, texts);
      if (overlaps(d.range, range)) actions.push(...toCodeActions(fixes.get(f) ?? [], d, texts));
    }
    return actions;
  }
}
