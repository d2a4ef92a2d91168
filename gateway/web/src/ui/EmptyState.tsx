import type { ComponentChildren } from 'preact';
import { Icon, type IconName } from './icons';

export function EmptyState({ title, children, icon }: { title: string; children?: ComponentChildren; icon?: IconName }) {
  return (
    <div class="empty-state" data-testid="empty-state">
      {icon ? (
        <div class="empty-state-icon">
          <Icon name={icon} size={36} />
        </div>
      ) : null}
      <h2 class="empty-state-title">{title}</h2>
      {children ? <div class="empty-state-body">{children}</div> : null}
    </div>
  );
}

export function LoadError({ message, onRetry }: { message: string; onRetry: () => void }) {
  return (
    <div class="load-error" role="alert">
      <p>{message}</p>
      <button type="button" class="button" onClick={onRetry}>
        Retry
      </button>
    </div>
  );
}
