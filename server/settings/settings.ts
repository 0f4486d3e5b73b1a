/** Platform settings that admins change in the app (the environment holds only deployment settings). */
export interface PlatformSettings {
  /** An organizer's letter opens only after an admin has reviewed it. */
  requireReview: boolean;
  /** Signatures from one source (client or e-mail domain) in an hour past which the dashboard alerts. */
  trendingAlertPerHour: number;
  /** The data controller, as every letter's privacy notice names it ('' until an admin fills it in). */
  controllerName: string;
  /** Its postal address, lines separated by \n. */
  controllerAddress: string;
  /** Where supporters write about their data. */
  controllerEmail: string;
  /** The data-protection officer's contact, free text ('' for none). */
  controllerDpo: string;
  /** The supervisory authority supporters may complain to, free text ('' for none named). */
  controllerAuthority: string;
}

/** The data controller's part of the settings: who answers for supporters' data, and how to reach them. */
export type DataController = Pick<
  PlatformSettings,
  'controllerName' | 'controllerAddress' | 'controllerEmail' | 'controllerDpo' | 'controllerAuthority'
>;

/** The controller's fields, in the order the form and the audit log show them. */
export const CONTROLLER_FIELDS = [
  'controllerName',
  'controllerAddress',
  'controllerEmail',
  'controllerDpo',
  'controllerAuthority',
] as const satisfies readonly (keyof DataController)[];

/** The most characters each controller field may hold (an address or an authority runs to a few lines). */
export const CONTROLLER_LIMITS: Readonly<Record<keyof DataController, number>> = {
  controllerName: 200,
  controllerAddress: 500,
  controllerEmail: 254,
  controllerDpo: 500,
  controllerAuthority: 500,
};

/**
 * Whether the operator has named the data controller: its name, postal address and e-mail (the DPO and
 * the authority are optional). Until then every notice says so, and the admin pages show it as a to-do.
 */
export function controllerIsSet(settings: DataController): boolean {
  return (
    settings.controllerName !== '' && settings.controllerAddress !== '' && settings.controllerEmail !== ''
  );
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

export const DEFAULT_SETTINGS: PlatformSettings = {
  requireReview: false,
  trendingAlertPerHour: 50,
  controllerName: '',
  controllerAddress: '',
  controllerEmail: '',
  controllerDpo: '',
  controllerAuthority: '',
};

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
    ...(Object.fromEntries(
      CONTROLLER_FIELDS.map((key) => [key, stored.get(key) ?? DEFAULT_SETTINGS[key]]),
    ) as DataController),
  };
}
