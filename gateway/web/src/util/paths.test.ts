import { describe, expect, it } from 'vitest';
import { pathSegments, truncatePath } from './paths';

describe('truncatePath', () => {
  it('keeps the last two segments of nested paths', () => {
    expect(truncatePath('platform/backend/services/api-gateway')).toEqual({
      text: '… / services / api-gateway',
      full: 'platform / backend / services / api-gateway',
      truncated: true,
    });
  });

  it('shows short paths whole', () => {
    expect(truncatePath('group/project')).toEqual({ text: 'group / project', full: 'group / project', truncated: false });
    expect(truncatePath('a/b/c')).toMatchObject({ text: 'a / b / c', truncated: false });
    expect(truncatePath('solo')).toMatchObject({ text: 'solo', truncated: false });
  });

  it('honours another number of kept segments', () => {
    expect(truncatePath('a/b/c/d/e', 3).text).toBe('… / c / d / e');
    expect(truncatePath('a/b/c/d/e', 1).text).toBe('… / e');
    expect(truncatePath('a/b', 0).text).toBe('a / b');
  });

  it('ignores empty segments and surrounding slashes and spaces', () => {
    expect(truncatePath('/platform//backend/ services /api-gateway/').text).toBe('… / services / api-gateway');
    expect(truncatePath('')).toEqual({ text: '', full: '', truncated: false });
  });

  it('drops more leading segments to fit a character budget', () => {
    expect(truncatePath('org/platform/very-long-subgroup-name/api-gateway', 2, 20)).toMatchObject({ text: '… / api-gateway', truncated: true });
  });

  it('cuts a single over-long segment from the left', () => {
    const result = truncatePath('group/an-extremely-long-project-name', 2, 12);
    expect(result.truncated).toBe(true);
    expect(result.text).toBe('…roject-name');
    expect(result.text.length).toBeLessThanOrEqual(12);
  });
});

describe('pathSegments', () => {
  it('splits and trims', () => {
    expect(pathSegments(' a / b/c ')).toEqual(['a', 'b', 'c']);
  });
});
