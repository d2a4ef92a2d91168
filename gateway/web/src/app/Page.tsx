/** Maps the current route to its page. */
import type { User } from '../api/types';
import { DashboardPage } from '../dashboard/DashboardPage';
import { InstancesPage } from '../instances/InstancesPage';
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
      return <ComingSoonPage kind="mirrors" />;
    case 'jobs':
      return <ComingSoonPage kind="jobs" />;
    case 'topology':
      return <TopologyPage />;
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
