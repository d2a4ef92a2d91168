import { render } from 'preact';
import { App } from './app/App';
import { initTheme } from './theme/theme';
import './styles/base.css';
import './styles/layout.css';
import './styles/components.css';
import './styles/forms.css';
import './styles/tables.css';
import './styles/overlays.css';
import './styles/pages.css';

initTheme();
const root = document.getElementById('app');
if (root) render(<App />, root);
