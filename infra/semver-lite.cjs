// Bundled in place of `semver`: jsonwebtoken loads all of semver (tens of regular expressions
// compiled at start-up) only to ask, once, whether the running Node version satisfies ranges
// like ">=15.7.0" or "^6.12.0 || >=8.0.0". This answers exactly those forms and refuses others.
'use strict';

function parse(version) {
  const match = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (!match) throw new Error(`semver-lite: cannot read version ${version}`);
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

function compare(a, b) {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

function satisfiesOne(version, comparator) {
  const match = /^(>=|\^)(\d+\.\d+\.\d+)$/.exec(comparator.trim());
  if (!match) throw new Error(`semver-lite: unsupported range ${comparator}`);
  const floor = parse(match[2]);
  if (match[1] === '>=') return compare(version, floor) >= 0;
  return version[0] === floor[0] && compare(version, floor) >= 0;
}

function satisfies(version, range) {
  const parsed = parse(version);
  return range.split('||').some((comparator) => satisfiesOne(parsed, comparator));
}

module.exports = { satisfies };
