// Field, column and search definitions of the demo PMS modules (shapes of the W3 Hotel PMS).
import { fmtDate, fmtMoney, uuid } from './dom.js';

export const ROOM_TYPES = ['standard', 'deluxe', 'suite', 'executive', 'presidential'];
export const ROOM_STATUSES = ['vacant-clean', 'vacant-dirty', 'occupied-clean', 'occupied-dirty', 'maintenance', 'out-of-order'];
export const RESERVATION_STATUSES = ['confirmed', 'checked-in', 'checked-out', 'cancelled', 'no-show'];
export const INVOICE_STATUSES = ['draft', 'issued', 'paid', 'void'];
const ID_TYPES = ['passport', 'national-id', 'driving-license', 'other'];
const SOURCES = ['direct', 'walk-in', 'phone', 'email', 'website', 'booking.com', 'expedia', 'agoda', 'corporate', 'travel-agent'];
const DAY = 86400000;

const round2 = (n) => Math.round((Number(n) || 0) * 100) / 100;
const guestName = (ctx, id) => {
  const g = id && ctx.guestById && ctx.guestById.get(id);
  return g ? `${g.firstName || ''} ${g.lastName || ''}`.trim() : (id ? `#${String(id).slice(0, 8)}` : '—');
};
const roomLabel = (ctx, id) => {
  const r = id && ctx.roomById && ctx.roomById.get(id);
  return r ? String(r.roomNumber) : (id ? `#${String(id).slice(0, 8)}` : '—');
};

/** Field types: text email tel number select date tags textarea guestRef roomRef lineItems. */
export const MODULES = {
  guests: {
    key: 'w3-hotel-guests', title: 'Guests', singular: 'guest', timestamps: true,
    fields: [
      { name: 'firstName', label: 'First name', type: 'text', required: true },
      { name: 'lastName', label: 'Last name', type: 'text', required: true },
      { name: 'phone', label: 'Phone', type: 'tel', required: true },
      { name: 'email', label: 'Email', type: 'email' },
      { name: 'nationality', label: 'Nationality', type: 'text' },
      { name: 'idType', label: 'ID type', type: 'select', options: ID_TYPES, optional: true },
      { name: 'idNumber', label: 'ID number', type: 'text' },
      { name: 'address', label: 'Address', type: 'textarea', wide: true },
      { name: 'preferences', label: 'Preferences (comma separated)', type: 'tags', wide: true },
      { name: 'loyaltyPoints', label: 'Loyalty points', type: 'number', required: true, default: 0, step: 1 },
      { name: 'totalStays', label: 'Total stays', type: 'number', required: true, default: 0, step: 1 },
      { name: 'totalSpent', label: 'Total spent', type: 'number', required: true, default: 0 },
    ],
    columns: [
      { label: 'Name', get: (r) => `${r.firstName || ''} ${r.lastName || ''}`.trim(), strong: true },
      { label: 'Phone', get: (r) => r.phone || '' },
      { label: 'Email', get: (r) => r.email || '' },
      { label: 'Nationality', get: (r) => r.nationality || '' },
      { label: 'Stays', get: (r) => r.totalStays ?? 0, num: true },
      { label: 'Loyalty', get: (r) => r.loyaltyPoints ?? 0, num: true },
    ],
    searchText: (r) => `${r.firstName || ''} ${r.lastName || ''} ${r.email || ''} ${r.phone || ''} ${r.idNumber || ''} ${r.nationality || ''}`,
    describe: (r) => `${r.firstName || ''} ${r.lastName || ''}`.trim() || 'guest',
  },

  reservations: {
    key: 'w3-hotel-reservations', title: 'Reservations', singular: 'reservation', timestamps: true,
    needs: ['guests', 'rooms'],
    fields: [
      { name: 'guestId', label: 'Guest', type: 'guestRef', required: true, wide: true },
      { name: 'roomId', label: 'Room', type: 'roomRef' },
      { name: 'status', label: 'Status', type: 'select', options: RESERVATION_STATUSES, required: true, default: 'confirmed' },
      { name: 'checkInDate', label: 'Check-in', type: 'date', required: true, default: () => Date.now() },
      { name: 'checkOutDate', label: 'Check-out', type: 'date', required: true, default: () => Date.now() + DAY },
      { name: 'adults', label: 'Adults', type: 'number', required: true, default: 1, step: 1, min: 0 },
      { name: 'children', label: 'Children', type: 'number', required: true, default: 0, step: 1, min: 0 },
      { name: 'ratePerNight', label: 'Rate per night', type: 'number', required: true, default: 0 },
      { name: 'totalAmount', label: 'Total amount (0 = nights × rate)', type: 'number', required: true, default: 0 },
      { name: 'advancePaid', label: 'Advance paid', type: 'number', required: true, default: 0 },
      { name: 'source', label: 'Source', type: 'text', list: SOURCES, required: true, default: 'direct' },
      { name: 'specialRequests', label: 'Special requests', type: 'textarea', wide: true },
    ],
    columns: [
      { label: 'Guest', get: (r, ctx) => guestName(ctx, r.guestId), strong: true },
      { label: 'Room', get: (r, ctx) => roomLabel(ctx, r.roomId) },
      { label: 'Check-in', get: (r) => fmtDate(r.checkInDate) },
      { label: 'Check-out', get: (r) => fmtDate(r.checkOutDate) },
      { label: 'Status', get: (r) => r.status || '', badge: true },
      { label: 'Total', get: (r) => fmtMoney(r.totalAmount), num: true },
      { label: 'Source', get: (r) => r.source || '' },
    ],
    searchText: (r, ctx) => `${guestName(ctx, r.guestId)} ${roomLabel(ctx, r.roomId)} ${r.status || ''} ${r.source || ''} ${r.id || ''} ${r.guestId || ''}`,
    describe: (r, ctx) => `reservation for ${guestName(ctx, r.guestId)}`,
    beforeSave(rec, { isNew, user }) {
      if (new Date(rec.checkOutDate) <= new Date(rec.checkInDate)) {
        throw new Error('Check-out must be after check-in.');
      }
      if (!rec.totalAmount) {
        const nights = Math.max(1, Math.round((new Date(rec.checkOutDate) - new Date(rec.checkInDate)) / DAY));
        rec.totalAmount = round2(nights * (Number(rec.ratePerNight) || 0));
      }
      if (isNew || !rec.createdBy) rec.createdBy = (user && user.login) || 'frontdesk';
    },
  },

  rooms: {
    key: 'w3-hotel-rooms', title: 'Rooms', singular: 'room', timestamps: false,
    fields: [
      { name: 'roomNumber', label: 'Room number', type: 'text', required: true },
      { name: 'floor', label: 'Floor', type: 'number', required: true, default: 1, step: 1 },
      { name: 'roomType', label: 'Room type', type: 'select', options: ROOM_TYPES, required: true, default: 'standard' },
      { name: 'status', label: 'Status', type: 'select', options: ROOM_STATUSES, required: true, default: 'vacant-clean' },
      { name: 'baseRate', label: 'Base rate', type: 'number', required: true, default: 100 },
      { name: 'maxOccupancy', label: 'Max occupancy', type: 'number', required: true, default: 2, step: 1, min: 1 },
      { name: 'amenities', label: 'Amenities (comma separated)', type: 'tags', wide: true },
      { name: 'lastCleaned', label: 'Last cleaned', type: 'date' },
      { name: 'assignedHousekeeper', label: 'Assigned housekeeper', type: 'text' },
      { name: 'notes', label: 'Notes', type: 'textarea', wide: true },
    ],
    columns: [
      { label: 'Room', get: (r) => r.roomNumber ?? '', strong: true },
      { label: 'Floor', get: (r) => r.floor ?? '', num: true },
      { label: 'Type', get: (r) => r.roomType || '' },
      { label: 'Status', get: (r) => r.status || '', badge: true },
      { label: 'Base rate', get: (r) => fmtMoney(r.baseRate), num: true },
      { label: 'Max occ.', get: (r) => r.maxOccupancy ?? '', num: true },
      { label: 'Housekeeper', get: (r) => r.assignedHousekeeper || '' },
    ],
    // Listed by room number (a hotel has at most a few hundred rooms), not newest first.
    sort: (a, b) => String(a.roomNumber ?? '').localeCompare(String(b.roomNumber ?? ''), undefined, { numeric: true }),
    searchText: (r) => `${r.roomNumber ?? ''} ${r.roomType || ''} ${r.status || ''} ${r.assignedHousekeeper || ''}`,
    describe: (r) => `room ${r.roomNumber ?? ''}`.trim(),
  },

  invoices: {
    key: 'w3-hotel-finance-invoices', title: 'Invoices', singular: 'invoice', timestamps: true,
    needs: ['guests'],
    fields: [
      { name: 'invoiceNumber', label: 'Invoice number', type: 'text', required: true, default: () => nextInvoiceNumber() },
      { name: 'status', label: 'Status', type: 'select', options: INVOICE_STATUSES, required: true, default: 'draft' },
      { name: 'guestId', label: 'Guest', type: 'guestRef', required: true, wide: true },
      { name: 'reservationId', label: 'Reservation id', type: 'text' },
      { name: 'issueDate', label: 'Issue date', type: 'date', required: true, default: () => Date.now() },
      { name: 'dueDate', label: 'Due date', type: 'date', required: true, default: () => Date.now() + 14 * DAY },
      { name: 'lineItems', label: 'Line items — one per line: description;quantity;unit price', type: 'lineItems', required: true, wide: true },
      { name: 'tax', label: 'Tax (amount)', type: 'number', required: true, default: 0 },
    ],
    columns: [
      { label: 'Number', get: (r) => r.invoiceNumber || '', strong: true },
      { label: 'Guest', get: (r, ctx) => guestName(ctx, r.guestId) },
      { label: 'Issued', get: (r) => fmtDate(r.issueDate) },
      { label: 'Due', get: (r) => fmtDate(r.dueDate) },
      { label: 'Status', get: (r) => r.status || '', badge: true },
      { label: 'Total', get: (r) => fmtMoney(r.total), num: true },
    ],
    searchText: (r, ctx) => `${r.invoiceNumber || ''} ${guestName(ctx, r.guestId)} ${r.status || ''} ${r.reservationId || ''} ${r.guestId || ''}`,
    describe: (r) => `invoice ${r.invoiceNumber || ''}`.trim(),
    beforeSave(rec) {
      const items = Array.isArray(rec.lineItems) ? rec.lineItems : [];
      rec.subtotal = round2(items.reduce((s, it) => s + (Number(it.amount) || 0), 0));
      rec.tax = round2(rec.tax);
      rec.total = round2(rec.subtotal + rec.tax);
    },
  },
};

export const MODULE_ORDER = ['guests', 'reservations', 'rooms', 'invoices'];

let invoiceSeq = 0;
function nextInvoiceNumber() {
  const d = new Date();
  invoiceSeq = (invoiceSeq + 1) % 1000;
  return `INV-${d.getFullYear()}${String(d.getMonth() + 1).padStart(2, '0')}${String(d.getDate()).padStart(2, '0')}-${String(Date.now() % 100000).padStart(5, '0')}${invoiceSeq}`;
}

/** "description;qty;unitPrice" lines → line items (ids kept by position from `previous`). */
export function parseLineItems(text, previous = []) {
  const items = [];
  const lines = String(text || '').split('\n').map((l) => l.trim()).filter(Boolean);
  lines.forEach((line, i) => {
    const parts = line.split(';').map((p) => p.trim());
    const description = parts[0];
    const quantity = parts[1] === undefined || parts[1] === '' ? 1 : Number(parts[1]);
    const unitPrice = parts[2] === undefined || parts[2] === '' ? 0 : Number(parts[2]);
    if (!description || !Number.isFinite(quantity) || !Number.isFinite(unitPrice)) {
      throw new Error(`Line item ${i + 1} is not "description;quantity;unit price": ${line}`);
    }
    const prev = previous[i];
    items.push({ id: (prev && prev.id) || uuid(), description, quantity, unitPrice, amount: round2(quantity * unitPrice) });
  });
  return items;
}

export function formatLineItems(items) {
  return (Array.isArray(items) ? items : []).map((it) => `${it.description ?? ''};${it.quantity ?? 1};${it.unitPrice ?? 0}`).join('\n');
}
