import { describe, expect, it } from 'vitest';
import { rankItems, scoreText, type PaletteItem } from './search';

const item = (label: string, group = 'Pair', detail?: string): PaletteItem => ({ id: label, group, label, detail, run: () => undefined });

describe('scoreText', () => {
  it('ranks exact > prefix > word > substring > subsequence', () => {
    const exact = scoreText('prod', 'prod');
    const prefix = scoreText('prod-to-dr', 'prod');
    const word = scoreText('eu-prod', 'prod');
    const inner = scoreText('reproduce', 'prod');
    const subseq = scoreText('p-r-o-d', 'prod');
    expect(exact).toBeGreaterThan(prefix);
    expect(prefix).toBeGreaterThan(word);
    expect(word).toBeGreaterThan(inner);
    expect(inner).toBeGreaterThan(subseq);
    expect(subseq).toBeGreaterThan(0);
    expect(scoreText('staging', 'prod')).toBe(-1);
  });
});

describe('rankItems', () => {
  const items = [item('prod-to-dr'), item('dr-to-prod'), item('Pairs', 'Page'), item('gitlab-eu', 'Instance', 'https://eu.example.com')];

  it('finds a pair by name', () => {
    expect(rankItems(items, 'prod-to').map((i) => i.label)[0]).toBe('prod-to-dr');
  });

  it('requires every term to match and searches details', () => {
    expect(rankItems(items, 'eu example').map((i) => i.label)).toEqual(['gitlab-eu']);
    expect(rankItems(items, 'prod zzz')).toEqual([]);
  });

  it('matches details and keywords only as substrings', () => {
    const pages = [item('Pairs', 'Page'), { ...item('About', 'Page'), keywords: 'open tab' }];
    expect(rankItems(pages, 'pa').map((i) => i.label)).toEqual(['Pairs']);
    expect(rankItems(pages, 'tab').map((i) => i.label)).toEqual(['About']);
  });

  it('returns everything for an empty query, up to the limit', () => {
    expect(rankItems(items, '  ', 2)).toHaveLength(2);
  });
});
