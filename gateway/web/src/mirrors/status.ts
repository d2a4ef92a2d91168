/** How a mirror's sync status and token status are shown. */
import type { Tone } from '../jobs/format';
import type { Mirror, TokenStatus } from './types';

/** GitLab statuses that mean an update is under way. */
const ACTIVE_STATUSES = new Set(['started', 'scheduled', 'to_retry', 'syncing']);

/** Whether the mirror is changing right now: creating, deleting or syncing in GitLab. */
export function isBusy(mirror: Pick<Mirror, 'lifecycle' | 'last_update_status'>): boolean {
  if (mirror.lifecycle === 'creating' || mirror.lifecycle === 'deleting') return true;
  return ACTIVE_STATUSES.has(mirror.last_update_status ?? '');
}

export interface StatusView {
  label: string;
  tone: Tone;
}

export function syncStatus(mirror: Pick<Mirror, 'lifecycle' | 'last_update_status' | 'enabled'>): StatusView {
  switch (mirror.lifecycle) {
    case 'creating':
      return { label: 'Creating', tone: 'info' };
    case 'deleting':
      return { label: 'Deleting', tone: 'info' };
    case 'create_failed':
      return { label: 'Create failed', tone: 'danger' };
    default:
      break;
  }
  switch (mirror.last_update_status) {
    case 'finished':
    case 'success':
      return { label: 'Success', tone: 'success' };
    case 'failed':
      return { label: 'Failed', tone: 'danger' };
    case 'started':
    case 'syncing':
      return { label: 'Syncing', tone: 'info' };
    case 'scheduled':
    case 'to_retry':
      return { label: 'Scheduled', tone: 'info' };
    case 'none':
      return { label: 'Pending', tone: 'neutral' };
    case null:
    case undefined:
    case '':
      return { label: 'Not checked', tone: 'neutral' };
    default:
      return { label: mirror.last_update_status, tone: 'neutral' };
  }
}

export function tokenStatusView(status: TokenStatus): StatusView {
  switch (status) {
    case 'active':
      return { label: 'Active', tone: 'success' };
    case 'expiring_soon':
      return { label: 'Expiring soon', tone: 'warning' };
    case 'expired':
      return { label: 'Expired', tone: 'danger' };
    default:
      return { label: 'No token', tone: 'neutral' };
  }
}
