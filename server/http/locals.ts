import type { RequestHandler } from 'express';
import type { Locals } from 'express-serve-static-core';
import type { User } from '../accounts/account.js';
import { DEFAULT_LANGUAGE, type InterfaceLanguage, type TFunction } from '../lib/i18n.js';
import { languageLinks, type LanguageLink } from './language.js';

/** Which admin pages the navigation links to: what the policy allows the logged-in account. */
export interface AdminNav {
  signatures: boolean;
  exports: boolean;
  queue: boolean;
  users: boolean;
  audit: boolean;
  abuse: boolean;
  settings: boolean;
}

/** The dashboard's trending-sources alert: sources over the threshold in the last hour (0: none). */
export interface AbuseAlert {
  sources: number;
  threshold: number;
}

// What every request's res.locals holds, typed once: routes read them without casts, and views (compiled
// strict) always find them, because localDefaults() sets each one before anything else runs.
declare module 'express-serve-static-core' {
  interface Locals {
    /** Translates into the request's interface language. */
    t: TFunction;
    /** The request's interface language: a plain code from INTERFACE_LANGUAGES ("ko", never "ko-KR"). */
    language: InterfaceLanguage;
    /** The language switcher's links, one per interface language, back to this page. */
    languageLinks: LanguageLink[];
    /**
     * The interface language when the address chose it (`?lang=`, as an e-mail's link does), which the
     * page's links to other pages keep (the views' `local` helper); undefined otherwise.
     */
    addressLanguage: InterfaceLanguage | undefined;
    /**
     * After a form POST, the page the form is on, where the language switcher goes back to (a local
     * path); undefined: the home page. Routes that show a form again with its mistakes set it.
     */
    formPage: string | undefined;
    /** The platform's public address, without a trailing slash (config PUBLIC_URL). */
    publicUrl: string;
    /** The logged-in account; only ever set under the account paths (/admin, /login, /logout, /account). */
    currentUser: User | undefined;
    /** The CSRF token for the page's forms. */
    csrfToken: string;
    /** The admin navigation's links (all false for visitors). */
    adminNav: AdminNav;
    /** Whether the navigation links to the captured mailbox. */
    showMailbox: boolean;
    /** Whether mail is captured here (SMTP_URL unset) instead of reaching anyone's inbox. */
    mailCaptured: boolean;
    /** Whether the signing form carries the proof-of-work widget. */
    proofOfWork: boolean;
    /** The dashboard's alert about busy signing sources (zero sources: no alert). */
    abuseAlert: AbuseAlert;
    /** Whether the dashboard reminds an admin to name the data controller (privacy notices say it is missing). */
    controllerTodo: boolean;
    /**
     * The page's title, already translated; each render passes its own (`pageTitle: t('…title')`, or a
     * letter's title). Null: the site's name alone.
     */
    pageTitle: string | null;
    /**
     * The metrics' label of a request that failed inside a router mounted under a prefix, taken there
     * (metrics/metrics-routes.ts, keepRouteLabel); undefined: worked out when the answer is written.
     */
    metricsRoute: string | undefined;
  }
}

/** No admin page: what a visitor's (or an error page's) navigation shows. */
export const NO_ADMIN_NAV: Readonly<AdminNav> = Object.freeze({
  signatures: false,
  exports: false,
  queue: false,
  users: false,
  audit: false,
  abuse: false,
  settings: false,
});

/** No busy signing sources, or an account that does not see them. */
export const NO_ABUSE_ALERT: Readonly<AbuseAlert> = Object.freeze({ sources: 0, threshold: 0 });

/**
 * The app's first middleware: gives every local its default, so a route never reads a missing one and a
 * strict view (or the error page, when a request fails before the language is known) never meets one.
 * Later middleware overwrite them: the language, the session's account, the CSRF token.
 */
export function localDefaults(defaults: { t: TFunction; publicUrl: string }): RequestHandler {
  // Made once: most requests get their own links from the language middleware; the rest (assets, a failure
  // before it) need only a switcher back to the home page.
  const homeLinks = languageLinks(DEFAULT_LANGUAGE, '/');
  return (_req, res, next) => {
    const locals: Locals = {
      t: defaults.t,
      language: DEFAULT_LANGUAGE,
      languageLinks: homeLinks,
      addressLanguage: undefined,
      formPage: undefined,
      publicUrl: defaults.publicUrl,
      currentUser: undefined,
      csrfToken: '',
      adminNav: { ...NO_ADMIN_NAV },
      showMailbox: false,
      mailCaptured: false,
      proofOfWork: false,
      abuseAlert: NO_ABUSE_ALERT,
      controllerTodo: false,
      pageTitle: null,
      metricsRoute: undefined,
    };
    // A new object rather than twelve properties added to Express's empty one: nothing before this
    // middleware writes locals, and one allocation of a fixed shape is cheaper on every request.
    res.locals = locals;
    next();
  };
}
