/** Version of the web console (from package.json), injected at build time. */
declare const __UI_VERSION__: string;
