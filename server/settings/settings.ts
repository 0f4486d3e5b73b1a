/** Platform settings that admins change in the app (the environment holds only deployment settings). */
export interface PlatformSettings {
  /** An organizer's letter opens only after an admin has reviewed it. */
  requireReview: boolean;
  /** Signatures from one source (client or e-mail domain) in an hour past which the dashboard alerts. */
  trendingAlertPerHour: number;
}

/**
 * Whether saving changes to a letter holds them for an admin's review instead of applying them: a
 * published letter was approved as it is, so when the platform requires review, what the public reads,
 * signs and what recipients receive changes only once an admin approves. Drafts change in place.
 */
export function changesWaitForReview(
  published: boolean,
  requireReview: boolean,
  mayPublishUnreviewed: boolean,
): boolean {
  return published && requireReview && !mayPublishUnreviewed;
}

export const DEFAULT_SETTINGS: PlatformSettings = { requireReview: false, trendingAlertPerHour: 50 };

/** The alert threshold an admin may set: a whole number of signatures per hour. */
export function parseTrendingAlert(value: string | undefined): number | undefined {
  return value !== undefined && /^\d{1,6}$/.test(value.trim()) && Number(value) >= 1
    ? Number(value)
    : undefined;
}

/** Reads stored key/value pairs into settings, falling back to defaults for missing or malformed values. */
export function settingsFrom(stored: ReadonlyMap<string, string>): PlatformSettings {
  const flag = (key: 'requireReview') => {
    const value = stored.get(key);
    return value === '1' ? true : value === '0' ? false : DEFAULT_SETTINGS[key];
  };
  return {
    requireReview: flag('requireReview'),
    trendingAlertPerHour:
      parseTrendingAlert(stored.get('trendingAlertPerHour')) ?? DEFAULT_SETTINGS.trendingAlertPerHour,
  };
}
