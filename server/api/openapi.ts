import { API_PATH, DEFAULT_PER_PAGE, MAX_PAGE, MAX_PER_PAGE } from './public-api.js';

/**
 * The OpenAPI 3.1 document of the public read API, served at /api/openapi.json. Its schemas are JSON
 * Schema 2020-12 and closed (`additionalProperties: false`): a field the document does not name (an
 * e-mail address, say) makes an answer invalid, which tests/http/api-openapi.test.ts checks against
 * real answers.
 */

const nullable = (type: string, extra: Record<string, unknown> = {}) => ({ type: [type, 'null'], ...extra });
const closed = (properties: Record<string, unknown>, required = Object.keys(properties)) => ({
  type: 'object',
  additionalProperties: false,
  required,
  properties,
});
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

const link = {
  type: 'object',
  additionalProperties: false,
  required: ['href'],
  properties: {
    href: { type: 'string', format: 'uri' },
    type: { type: 'string' },
    templated: { type: 'boolean' },
  },
};
const curies = {
  type: 'array',
  items: closed({ name: { type: 'string' }, href: { type: 'string' }, templated: { type: 'boolean' } }),
};

/** The fields a letter has in the list and alone. */
const letterFields = {
  identifiers: {
    type: 'array',
    items: { type: 'string', pattern: '^undersigned:' },
    description: 'OSDI identifiers, `undersigned:<slug>`.',
  },
  origin_system: { type: 'string', const: 'Undersigned' },
  slug: { type: 'string' },
  created_date: { ...nullable('string', { format: 'date-time' }), description: 'When it was published.' },
  title: { type: 'string' },
  description: { type: 'string', description: "The letter's summary, in `language`." },
  language: { type: 'string', description: 'The language of `title` and `description`.' },
  languages: { type: 'array', items: { type: 'string' }, description: 'Its complete translations.' },
  total_signatures: { type: 'integer', minimum: 0, description: 'Confirmed signatures.' },
  goal: nullable('integer'),
  status: { type: 'string', enum: ['open', 'closed', 'delivered'] },
  signing: {
    type: 'string',
    enum: ['open', 'not-yet-open', 'closed'],
    description: 'Whether it can be signed now.',
  },
  closes_date: nullable('string', { format: 'date-time' }),
  browser_url: { type: 'string', format: 'uri', description: 'Its page, in `language`.' },
};
const letterLinks = {
  self: link,
  'osdi:signatures': link,
  html: link,
};

const parameters = {
  lang: {
    name: 'lang',
    in: 'query',
    required: false,
    description:
      'The text language wanted (a plain code such as `ko`); Accept-Language is read after it. The answer says which it is in (`language`).',
    schema: { type: 'string', pattern: '^[a-z]{2,3}$' },
  },
  perPage: {
    name: 'per_page',
    in: 'query',
    required: false,
    schema: { type: 'integer', minimum: 1, maximum: MAX_PER_PAGE, default: DEFAULT_PER_PAGE },
  },
  slug: { name: 'slug', in: 'path', required: true, schema: { type: 'string' } },
  acceptLanguage: {
    name: 'Accept-Language',
    in: 'header',
    required: false,
    schema: { type: 'string' },
  },
};

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: ref('Error') } },
});
const hal = (schema: string, description: string) => ({
  description,
  headers: {
    ETag: { schema: { type: 'string' } },
    'Cache-Control': { schema: { type: 'string' } },
  },
  content: { 'application/hal+json': { schema: ref(schema) } },
});
const common = {
  '304': { description: 'Not modified: the copy named in If-None-Match is current.' },
  '429': {
    ...errorResponse('Too many requests from this address; wait as long as Retry-After says.'),
    headers: { 'Retry-After': { schema: { type: 'integer' } } },
  },
  '503': {
    ...errorResponse('The server is too busy at this moment; wait as long as Retry-After says.'),
    headers: { 'Retry-After': { schema: { type: 'integer' } } },
  },
};

/** The document, with `publicUrl` as its server. */
export function openApiDocument(publicUrl: string) {
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'Undersigned public API',
      version: '1.0.0',
      description:
        "Read-only, no key. Published letters in the Open Supporter Data Interface's petition shape (HAL+JSON), and their public signatories exactly as each chose to appear: never an e-mail address, never a supporter who chose to be counted only. Answers are cached for a few seconds (ETag, If-None-Match answers 304), readable from any site (CORS), and limited per client address (429 with Retry-After).",
    },
    servers: [{ url: publicUrl }],
    paths: {
      [`${API_PATH}/letters`]: {
        get: {
          operationId: 'listLetters',
          summary: 'Published letters, open ones first, a page at a time.',
          parameters: [
            {
              name: 'page',
              in: 'query',
              required: false,
              schema: { type: 'integer', minimum: 1, maximum: MAX_PAGE, default: 1 },
            },
            parameters.perPage,
            parameters.lang,
            parameters.acceptLanguage,
          ],
          responses: {
            '200': hal('LetterList', 'One page of letters.'),
            ...common,
            '400': errorResponse('A parameter is not valid; the message names it.'),
          },
        },
      },
      [`${API_PATH}/letters/{slug}`]: {
        get: {
          operationId: 'getLetter',
          summary: 'One published letter.',
          parameters: [parameters.slug, parameters.lang, parameters.acceptLanguage],
          responses: {
            '200': hal('Letter', 'The letter.'),
            ...common,
            '400': errorResponse('A parameter is not valid; the message names it.'),
            '404': errorResponse('No published letter has this slug.'),
          },
        },
      },
      [`${API_PATH}/letters/{slug}/signatures`]: {
        get: {
          operationId: 'listSignatures',
          summary:
            'The signatories who chose to be listed by name, newest first, a page at a time (follow `_links.next`).',
          parameters: [
            parameters.slug,
            {
              name: 'cursor',
              in: 'query',
              required: false,
              description: 'Where the page starts, as a `next` link gave it; opaque.',
              schema: { type: 'string' },
            },
            parameters.perPage,
          ],
          responses: {
            '200': hal('SignatureList', 'One page of signatories.'),
            ...common,
            '400': errorResponse('A parameter is not valid; the message names it.'),
            '404': errorResponse('No published letter has this slug.'),
          },
        },
      },
      [`${API_PATH}/letters/{slug}/commitments/{round}/consistency`]: {
        get: {
          operationId: 'getConsistencyProof',
          summary:
            "The proof (RFC 6962 / RFC 9162 §2.1.4) that the letter's delivered list of round `from` is a prefix of its list of round `round`: only signatures were added between them.",
          parameters: [
            parameters.slug,
            { name: 'round', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } },
            {
              name: 'from',
              in: 'query',
              required: true,
              description: 'The earlier round, as `commitments[].round` names it.',
              schema: { type: 'integer', minimum: 1 },
            },
          ],
          responses: {
            '200': {
              description: 'Both lists and the proof.',
              headers: {
                ETag: { schema: { type: 'string' } },
                'Cache-Control': { schema: { type: 'string' } },
              },
              content: { 'application/json': { schema: ref('ConsistencyProof') } },
            },
            ...common,
            '400': errorResponse('A parameter is not valid; the message names it.'),
            '404': errorResponse('No published letter has this slug, or no delivered list this round.'),
            '409': errorResponse(
              'The later list does not extend the earlier one (a signature was withdrawn, erased or changed between them), or the earlier list is empty.',
            ),
          },
        },
      },
      '/api/openapi.json': {
        get: {
          operationId: 'getOpenApiDocument',
          summary: 'This document.',
          responses: {
            '200': {
              description: 'The document.',
              content: { 'application/json': { schema: { type: 'object' } } },
            },
            ...common,
          },
        },
      },
    },
    components: {
      schemas: {
        Link: link,
        LetterSummary: closed({
          ...letterFields,
          _links: closed(letterLinks),
        }),
        Letter: closed({
          ...letterFields,
          modified_date: {
            ...nullable('string', { format: 'date-time' }),
            description: 'When its text last changed.',
          },
          opens_date: nullable('string', { format: 'date-time' }),
          organisations: {
            type: 'array',
            items: { type: 'string' },
            description: 'Co-signing organisations.',
          },
          countries: {
            type: 'array',
            description: 'Confirmed signatures by country (ISO code), most first.',
            items: closed({ country: { type: 'string' }, count: { type: 'integer', minimum: 1 } }),
          },
          recipients: {
            type: 'array',
            description:
              "Whom it is addressed to: names and institutions only, in the answer's language where one was typed for it.",
            items: closed({
              name: { type: 'string' },
              title: { type: 'string' },
              institution: { type: 'string' },
              country: { type: 'string' },
            }),
          },
          deliveries: {
            type: 'array',
            description:
              'Its sending to recipients, grouped by day, institution (named as in recipients) and the count the letter stated, newest first.',
            items: closed({
              date: { type: 'string', format: 'date' },
              institution: { type: 'string' },
              recipients: { type: 'integer', minimum: 1 },
              signatures: { type: 'integer', minimum: 0 },
            }),
          },
          commitments: {
            type: 'array',
            description:
              'The commitment to each delivered list (a Merkle tree, RFC 6962, over its signatures), oldest first; docs/verification.md tells how to check one.',
            items: ref('Commitment'),
          },
          replies: {
            type: 'array',
            description:
              "Recipients' replies the organizer chose to publish, oldest first: who answered and when, the subject and the text without quoted lines or e-mail addresses; never the sender's address.",
            items: closed({
              receivedAt: { type: 'string', format: 'date-time' },
              institution: { type: 'string' },
              recipient: { type: 'string' },
              subject: { type: 'string' },
              text: { type: 'string' },
            }),
          },
          escalations: {
            type: 'array',
            description:
              'Each time no recipient of the tier that had the letter replied in time and the letter went to the next tier (1 embassy, 2 ministry, 3 head of state), oldest first. Planned or cancelled steps are not public.',
            items: closed({
              round: { type: 'integer', minimum: 1, description: 'The round that sent it on.' },
              fromTier: { type: 'integer', minimum: 1, maximum: 3 },
              toTier: { type: 'integer', minimum: 1, maximum: 3 },
              daysWithoutReply: { type: 'integer', minimum: 1 },
            }),
          },
          _links: closed({ ...letterLinks, curies }),
        }),
        Commitment: closed({
          round: { type: 'integer', minimum: 1, description: 'The delivery round whose list this is.' },
          kind: { type: 'string', description: 'delivery, update, milestone, or a correction.' },
          deliveredAt: {
            type: 'string',
            format: 'date-time',
            description: 'When its first letter was sent.',
          },
          treeSize: { type: 'integer', minimum: 0, description: 'How many signatures the list has.' },
          root: { type: 'string', pattern: '^[0-9a-f]{64}$', description: "The tree's root, hex." },
          correctsRound: {
            ...nullable('integer'),
            description: 'The round this one corrects (an erratum), or null.',
          },
        }),
        ConsistencyProof: closed({
          from: ref('CommittedList'),
          to: ref('CommittedList'),
          proof: { type: 'array', items: { type: 'string', pattern: '^[0-9a-f]{64}$' } },
        }),
        CommittedList: closed({
          round: { type: 'integer', minimum: 1 },
          treeSize: { type: 'integer', minimum: 0 },
          root: { type: 'string', pattern: '^[0-9a-f]{64}$' },
        }),
        LetterList: closed({
          total_pages: { type: 'integer', minimum: 1 },
          per_page: { type: 'integer', minimum: 1 },
          page: { type: 'integer', minimum: 1 },
          total_records: { type: 'integer', minimum: 0 },
          _links: closed(
            {
              self: link,
              first: link,
              last: link,
              next: link,
              prev: link,
              'osdi:petitions': { type: 'array', items: link },
              curies,
            },
            ['self', 'first', 'last', 'osdi:petitions', 'curies'],
          ),
          _embedded: closed({
            'osdi:petitions': { type: 'array', items: ref('LetterSummary') },
          }),
        }),
        Signatory: {
          ...closed({
            name: {
              type: 'string',
              minLength: 1,
              description: 'As the supporter chose: full name or initials.',
            },
            country: { type: 'string' },
            organisation: { type: 'string', description: 'Only beside a full name; else empty.' },
            title: {
              type: 'string',
              description: 'Their title or role, only beside a full name; else empty.',
            },
          }),
          description: 'A supporter who chose to be listed by name. Never an e-mail address.',
        },
        SignatureList: closed({
          total_signatures: {
            type: 'integer',
            minimum: 0,
            description: 'Every confirmed signature, listed or counted only.',
          },
          per_page: { type: 'integer', minimum: 1 },
          _links: closed({ self: link, first: link, next: link, 'osdi:petition': link, curies }, [
            'self',
            'first',
            'osdi:petition',
            'curies',
          ]),
          _embedded: closed({ 'osdi:signatures': { type: 'array', items: ref('Signatory') } }),
        }),
        Error: closed({
          error: closed({
            status: { type: 'integer', minimum: 400, maximum: 599 },
            code: { type: 'string' },
            message: { type: 'string' },
          }),
        }),
      },
    },
  };
}
