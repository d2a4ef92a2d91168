/** Saving the export file in the browser. */

/** `mirrors_<name>.json` with the name reduced as the server does it (`[A-Za-z0-9_.-]`). */
export function exportFileName(pairName: string): string {
  const cleaned = pairName.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^[._]+|[._]+$/g, '');
  return `mirrors_${cleaned || 'mirrors'}.json`;
}

export function downloadJson(data: unknown, fileName: string): void {
  const blob = new Blob([`${JSON.stringify(data, null, 2)}\n`], { type: 'application/json' });
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.rel = 'noopener';
  document.body.appendChild(link);
  link.click();
  link.remove();
  // Give the browser a moment to start the download before the URL goes away.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
