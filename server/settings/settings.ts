/** Platform settings that admins change in the app (the environment holds only deployment settings). */
export interface PlatformSettings {
  /** An organizer's letter opens only after an admin has reviewed it. */
  requireReview: boolean;
}

export const DEFAULT_SETTINGS: PlatformSettings = { requireReview: false };

/** Reads stored key/value pairs into settings, falling back to defaults for missing or malformed values. */
export function settingsFrom(stored: ReadonlyMap<string, string>): PlatformSettings {
  const flag = (key: keyof PlatformSettings) => {
    const value = stored.get(key);
    return value === '1' ? true : value === '0' ? false : DEFAULT_SETTINGS[key];
  };
  return { requireReview: flag('requireReview') };
}
