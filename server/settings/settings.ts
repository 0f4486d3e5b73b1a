/** Platform settings that admins change in the app (the environment holds only deployment settings). */
export interface PlatformSettings {
  /** An organizer's letter opens only after an admin has reviewed it. */
  requireReview: boolean;
  /** Signatures from one source (client or e-mail domain) in an hour past which the dashboard alerts. */
  trendingAlertPerHour: number;
}

export const DEFAULT_SETTINGS: PlatformSettings = { requireReview: false, trendingAlertPerHour: 50 };

/** The alert threshold an admin may set: a whole number of signatures per hour. */
export function parseTrendingAlert(value: string | undefined): number | undefined {
  return value !== undefined && /^\d{1,6}$/.test(value.trim()) && Number(value) >= 1 ? Number(value) : undefined;
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
