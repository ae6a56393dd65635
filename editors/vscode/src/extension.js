// The VS Code side of cgoguard: starts `cgoguard lsp` for Go files and
// restarts it on request. Everything else (diagnostics, quick fixes, reloading
// the configuration) is the language server's.
const vscode = require('vscode');
const { LanguageClient, TransportKind } = require('vscode-languageclient/node');

let client;

function serverOptions() {
  const config = vscode.workspace.getConfiguration('cgoguard');
  const command = config.get('path') || 'cgoguard';
  const args = [...(config.get('args') || []), 'lsp'];
  return { command, args, transport: TransportKind.stdio };
}

async function activate(context) {
  client = new LanguageClient('cgoguard', 'cgoguard', serverOptions(), {
    documentSelector: [{ scheme: 'file', language: 'go' }],
    synchronize: {
      // The server analyses again when Go or C files come, go or change on disk, and when its configuration changes.
      fileEvents: vscode.workspace.createFileSystemWatcher('**/{*.go,*.c,*.h,cgoguard.yaml,cgoguard.yml,.cgoguard.yaml}'),
    },
  });
  context.subscriptions.push(
    vscode.commands.registerCommand('cgoguard.restart', () => client.restart()),
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (!e.affectsConfiguration('cgoguard')) return;
      await client.stop();
      client = new LanguageClient('cgoguard', 'cgoguard', serverOptions(), client.clientOptions);
      await client.start();
    }),
  );
  await client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
