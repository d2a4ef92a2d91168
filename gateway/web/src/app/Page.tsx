/** Maps the current route to its page. */
import type { User } from '../api/types';
import { DashboardPage } from '../dashboard/DashboardPage';
import { InstancesPage } from '../instances/InstancesPage';
import { JobsPage } from '../jobs/JobsPage';
import { MirrorsPage } from '../mirrors/MirrorsPage';
import { AboutPage } from '../pages/AboutPage';
import { HelpPage } from '../pages/HelpPage';
import { ComingSoonPage, NotFoundPage } from '../pages/placeholders';
import { PairsPage } from '../pairs/PairsPage';
import { TopologyPage } from '../topology/TopologyPage';
import type { Location } from './router';

export function Page({ loc, user }: { loc: Location; user: User }) {
  switch (loc.route?.id) {
    case 'dashboard':
      return <DashboardPage />;
    case 'instances':
      return <InstancesPage params={loc.params} />;
    case 'pairs':
      return <PairsPage params={loc.params} />;
    case 'mirrors':
      return <MirrorsPage params={loc.params} />;
    case 'jobs':
      return <JobsPage params={loc.params} />;
    case 'topology':
      return <TopologyPage params={loc.params} />;
    case 'about':
      return <AboutPage />;
    case 'help':
      return <HelpPage />;
    case 'backup':
    case 'settings':
    case 'users':
      return <ComingSoonPage kind={loc.route.id} admin={user.is_admin} />;
    default:
      return <NotFoundPage path={loc.path} />;
  }
}
