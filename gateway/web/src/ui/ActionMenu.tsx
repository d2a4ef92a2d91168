/**
 * A menu of actions shared by every row of a long table: each row renders one small button, and
 * the table renders one menu that shows the actions of the row that opened it. Five buttons per
 * row were a fifth of a 200-row page's elements (docs/PERFORMANCE.md, "Web console").
 *
 * Built on the native popover: it sits in the top layer (no clipping by the rows' containment),
 * closes on Escape and on a click elsewhere, and the row buttons open it with `popovertarget`, so
 * a second click on the same button closes it. Keyboard use follows the WAI-ARIA menu button
 * pattern: the first item takes focus, arrows, Home and End move, Escape and Tab leave.
 */
import type { JSX } from 'preact';
import { useLayoutEffect, useRef, useState } from 'preact/hooks';

export interface MenuAction {
  label: string;
  run: () => void;
  disabled?: boolean;
  /** Why the action is disabled, or what it will do. */
  hint?: string;
  danger?: boolean;
}

export interface MenuRequest {
  anchor: HTMLElement;
  /** The menu's accessible name, e.g. "Actions for acme/api → mirror/api". */
  label: string;
  actions: MenuAction[];
}

/** Lets the rows open the table's menu without re-rendering the table. */
export class MenuController {
  /** Set by the mounted `ActionMenu`. */
  show: (request: MenuRequest) => void = () => {};
  /** The button whose menu is open, if any. */
  anchor: HTMLElement | null = null;

  /**
   * The row button's click handler. With the menu open for another row, the click moves it there
   * instead of letting `popovertarget` close it.
   */
  open(event: JSX.TargetedMouseEvent<HTMLButtonElement>, label: string, actions: MenuAction[]): void {
    const anchor = event.currentTarget;
    if (this.anchor === anchor) return; // `popovertarget` closes it.
    if (this.anchor) event.preventDefault();
    this.show({ anchor, label, actions });
  }
}

const GAP = 4;
const MARGIN = 8;

function place(menu: HTMLElement, anchor: HTMLElement): void {
  const button = anchor.getBoundingClientRect();
  const width = menu.offsetWidth;
  const height = menu.offsetHeight;
  const left = Math.max(MARGIN, Math.min(button.right - width, window.innerWidth - width - MARGIN));
  const below = button.bottom + GAP;
  const top = below + height > window.innerHeight - MARGIN && button.top - GAP - height >= MARGIN ? button.top - GAP - height : below;
  menu.style.left = `${Math.round(left)}px`;
  menu.style.top = `${Math.round(top)}px`;
}

function items(menu: HTMLElement): HTMLButtonElement[] {
  return Array.from(menu.querySelectorAll<HTMLButtonElement>('[role="menuitem"]:not(:disabled)'));
}

export function ActionMenu({ id, controller }: { id: string; controller: MenuController }) {
  const ref = useRef<HTMLDivElement>(null);
  const [request, setRequest] = useState<MenuRequest | null>(null);
  controller.show = (next) => {
    if (controller.anchor && controller.anchor !== next.anchor) controller.anchor.setAttribute('aria-expanded', 'false');
    controller.anchor = next.anchor;
    next.anchor.setAttribute('aria-expanded', 'true');
    setRequest(next);
  };

  // Follow the anchor while the page scrolls or resizes; a row that went away closes the menu.
  useLayoutEffect(() => {
    const menu = ref.current;
    if (!menu || !request) return;
    const follow = () => {
      if (!menu.matches(':popover-open')) return;
      if (request.anchor.isConnected) place(menu, request.anchor);
      else menu.hidePopover();
    };
    follow();
    if (menu.matches(':popover-open')) items(menu)[0]?.focus();
    window.addEventListener('scroll', follow, true);
    window.addEventListener('resize', follow);
    return () => {
      window.removeEventListener('scroll', follow, true);
      window.removeEventListener('resize', follow);
    };
  }, [request]);

  // Closing is handled on `beforetoggle`, which fires as the menu hides (`toggle` comes a task
  // later): the button's state and the focus are right at once.
  const onBeforeToggle = (event: Event) => {
    const menu = ref.current;
    const anchor = controller.anchor;
    if ((event as ToggleEvent).newState !== 'closed' || !menu || !anchor) return;
    anchor.setAttribute('aria-expanded', 'false');
    controller.anchor = null;
    const focus = document.activeElement;
    if (anchor.isConnected && (!focus || focus === document.body || menu.contains(focus))) anchor.focus();
  };

  const onToggle = (event: Event) => {
    const menu = ref.current;
    if (!menu) return;
    if ((event as ToggleEvent).newState === 'closed') {
      setRequest(null);
      return;
    }
    if (controller.anchor) place(menu, controller.anchor);
    items(menu)[0]?.focus();
  };

  const onKeyDown = (event: KeyboardEvent) => {
    const menu = ref.current;
    if (!menu) return;
    const list = items(menu);
    const at = list.indexOf(document.activeElement as HTMLButtonElement);
    const move = (index: number) => {
      event.preventDefault();
      list[(index + list.length) % list.length]?.focus();
    };
    if (event.key === 'ArrowDown') move(at + 1);
    else if (event.key === 'ArrowUp') move(at - 1);
    else if (event.key === 'Home') move(0);
    else if (event.key === 'End') move(list.length - 1);
    else if (event.key === 'Tab') menu.hidePopover();
  };

  const choose = (action: MenuAction) => {
    ref.current?.hidePopover();
    action.run();
  };

  return (
    <div ref={ref} id={id} popover="auto" class="action-menu" role="menu" aria-label={request?.label} onBeforeToggle={onBeforeToggle} onToggle={onToggle} onKeyDown={onKeyDown} data-testid="action-menu">
      {request?.actions.map((action) => (
        <button
          key={action.label}
          type="button"
          role="menuitem"
          class={`action-menu-item${action.danger ? ' action-menu-danger' : ''}`}
          disabled={action.disabled}
          title={action.hint}
          tabIndex={-1}
          onClick={() => choose(action)}
        >
          {action.label}
        </button>
      ))}
    </div>
  );
}
