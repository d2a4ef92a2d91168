/** Chart.js with only the parts the dashboard draws (loaded on demand). */
import { ArcElement, BarController, BarElement, CategoryScale, Chart, DoughnutController, Legend, LinearScale, Tooltip } from 'chart.js';

Chart.register(ArcElement, BarController, BarElement, CategoryScale, DoughnutController, LinearScale, Legend, Tooltip);

export { Chart };
