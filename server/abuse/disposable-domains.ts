import { disposableEmailBlocklistSet } from 'disposable-email-domains-js';

/**
 * E-mail domains that hand out throwaway inboxes, from a maintained list (the
 * disposable-email-domains project, through the disposable-email-domains-js package; updating the
 * package updates the list). Read once: the package builds a new Set of ~9,000 names on every call.
 */
export class DisposableDomains {
  private readonly domains: ReadonlySet<string>;

  constructor(domains: Iterable<string> = disposableEmailBlocklistSet()) {
    this.domains = new Set([...domains].map((d) => d.toLowerCase()));
  }

  /** Whether the domain, or a domain it is under (`x.mailinator.com`), is a throwaway one. */
  includes(emailDomain: string): boolean {
    const labels = emailDomain.toLowerCase().split('.');
    for (let i = 0; i < labels.length - 1; i++) {
      if (this.domains.has(labels.slice(i).join('.'))) return true;
    }
    return false;
  }
}
