import { describe, expect, it } from 'vitest';
import { href, parseHash } from './router';

describe('parseHash', () => {
  it('maps hashes to routes with parameters', () => {
    expect(parseHash('').route?.id).toBe('dashboard');
    expect(parseHash('#/').route?.id).toBe('dashboard');
    const loc = parseHash('#/pairs?focus=3');
    expect(loc.route?.id).toBe('pairs');
    expect(loc.params.get('focus')).toBe('3');
    expect(parseHash('#/instances/').route?.id).toBe('instances');
  });

  it('knows planned pages and rejects unknown ones', () => {
    expect(parseHash('#/settings').route).toMatchObject({ id: 'settings', nav: false });
    expect(parseHash('#/nope').route).toBeNull();
  });
});

describe('href', () => {
  it('builds hash links', () => {
    expect(href('/pairs', { focus: 3 })).toBe('#/pairs?focus=3');
    expect(href('/')).toBe('#/');
  });
});
