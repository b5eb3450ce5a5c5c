// SPDX-License-Identifier: Apache-2.0
// The console's words, in Chinese (the default: ops staff read it) and in
// English. A key missing from English falls back to Chinese, and a key
// missing from both shows as itself, so a gap is seen, never blank.

const zh = {
	"app.title": "vigil 告警控制台",
	"nav.problems": "问题",
	"nav.silences": "静默",
	"nav.logout": "退出登录",
	"nav.lang": "English",
	"role.admin": "系统管理员", "role.security": "安全管理员", "role.auditor": "审计管理员",
	"role.operator": "运维人员", "role.viewer": "只读用户",
	"login.title": "登录", "login.user": "用户名", "login.password": "密码", "login.totp": "动态口令（6 位）",
	"login.recovery": "使用恢复码", "login.recovery_code": "恢复码", "login.submit": "登录",
	"login.code_required": "该账号已启用双因素认证：请输入身份验证器中的 6 位动态口令，或一个恢复码。",
	"login.wrong": "用户名、密码或动态口令错误。",
	"login.locked": "登录失败次数过多，账号已锁定至 {until}。管理员重置密码可解锁。",
	"login.disabled": "该账号已停用。",
	"pw.title": "修改密码", "pw.why": "这是管理员为您设置的密码，使用前请先修改。",
	"pw.old": "当前密码", "pw.new": "新密码", "pw.again": "再次输入新密码", "pw.submit": "修改密码",
	"pw.mismatch": "两次输入的新密码不一致。",
	"pw.policy": "至少 12 个字符，包含大写字母、小写字母、数字、其他符号中的至少 3 类。",
	"totp.title": "启用双因素认证",
	"totp.why": "您的角色要求双因素认证（GB/T 22239-2019 8.1.4.1 d）。请先输入密码以生成密钥。",
	"totp.password": "密码", "totp.begin": "生成密钥",
	"totp.scan": "用身份验证器（如 FreeOTP、Google Authenticator、微信小程序“腾讯身份验证器”）扫描二维码，或手动输入密钥：",
	"totp.code": "身份验证器显示的 6 位动态口令", "totp.confirm": "确认启用",
	"totp.recovery": "恢复码（每个只能使用一次，仅显示这一次，请妥善保存）：", "totp.done": "我已保存，继续",
	"problems.title": "问题", "problems.updated": "更新于 {time}", "problems.none": "没有符合条件的问题。",
	"problems.count": "共 {n} 个", "problems.search": "搜索摘要、规则、主机",
	"problems.all_states": "全部未关闭", "problems.all_severities": "全部级别", "problems.host": "主机",
	"problems.select_all": "全选", "problems.selected": "已选 {n} 个",
	"problems.ack": "确认", "problems.close": "关闭", "problems.assign": "指派给…", "problems.assign_to": "指派对象",
	"problems.bulk_done": "{ok} 个成功，{failed} 个失败", "problems.stale": "无法刷新：{reason}",
	"col.severity": "级别", "col.state": "状态", "col.summary": "摘要", "col.host": "主机", "col.started": "开始时间",
	"col.duration": "持续", "col.ack": "确认人", "col.assignee": "负责人", "col.rule": "规则",
	"state.pending": "待定", "state.firing": "告警中", "state.resolved": "已恢复", "state.closed": "已关闭",
	"sev.info": "信息", "sev.warning": "警告", "sev.critical": "严重", "sev.disaster": "灾难",
	"flag.silenced": "已静默", "flag.flapping": "抖动", "flag.suppressed": "已抑制",
	"alert.title": "问题 #{id}", "alert.back": "返回问题列表", "alert.labels": "标签", "alert.value": "当前值",
	"alert.fired": "触发时间", "alert.resolved_at": "恢复时间", "alert.timeline": "时间线",
	"alert.note": "备注（可选）", "alert.comment": "评论", "alert.comment_note": "评论内容",
	"alert.unack": "取消确认", "alert.assign": "指派", "alert.severity": "修改级别", "alert.close": "关闭问题",
	"alert.close_confirm": "关闭后，该条件再次出现时会打开一个新问题。确定关闭？",
	"alert.not_found": "没有这个问题。", "alert.read_only": "您的角色只能查看。",
	"ev.fired": "触发", "ev.resolved": "恢复", "ev.ack": "确认", "ev.unack": "取消确认", "ev.assign": "指派",
	"ev.comment": "评论", "ev.severity": "修改级别", "ev.close": "关闭", "ev.flapping": "抖动", "ev.escalated": "升级",
	"ev.silenced": "已静默", "ev.pending": "待定", "ev.unsilenced": "静默结束", "ev.suppressed": "已抑制",
	"ev.unsuppressed": "抑制解除", "ev.cancelled": "未触发即恢复", "ev.unacknowledged": "恢复后取消确认",
	"ev.steady": "不再抖动", "ev.notified": "已通知", "ev.notify_retry": "通知失败，将重试", "ev.notify_failed": "通知失败，已放弃",
	"delivery": "通知 {target}（{event}）：{state}，等待发送", "delivery.attempts": "尝试 {n} 次",
	"dstate.queued": "排队中", "dstate.sent": "已送达", "dstate.failed": "失败",
	"silences.title": "静默", "silences.new": "新建静默", "silences.show_ended": "显示已结束的",
	"silences.none": "没有静默。", "silences.matchers": "匹配条件", "silences.from": "开始", "silences.to": "结束",
	"silences.creator": "创建人", "silences.comment": "说明", "silences.expire": "立即结束",
	"silences.active": "生效中", "silences.pending": "未开始", "silences.ended": "已结束",
	"silences.every": "每 {d} 重复", "silences.add_matcher": "添加条件", "silences.label": "标签名",
	"silences.value": "值", "silences.duration": "时长", "silences.create": "创建静默",
	"silences.preview": "当前会被静默的问题：{n} 个", "silences.preview_none": "当前没有会被静默的问题。",
	"silences.remove": "删除",
	"dur.1h": "1 小时", "dur.2h": "2 小时", "dur.4h": "4 小时", "dur.8h": "8 小时", "dur.1d": "1 天", "dur.7d": "7 天",
	"ago.now": "刚刚", "ago.s": "{n} 秒", "ago.m": "{n} 分钟", "ago.h": "{n} 小时", "ago.d": "{n} 天",
	"err.forbidden": "没有权限：{reason}", "err.network": "无法连接采集器。", "err.generic": "出错了：{reason}",
	"err.session": "会话已结束，请重新登录。",
	"page.not_found": "没有这个页面。",
};

const en = {
	"app.title": "vigil alert console",
	"nav.problems": "Problems", "nav.silences": "Silences", "nav.logout": "Log out", "nav.lang": "中文",
	"role.admin": "system administrator", "role.security": "security administrator",
	"role.auditor": "audit administrator", "role.operator": "operator", "role.viewer": "viewer",
	"login.title": "Log in", "login.user": "User name", "login.password": "Password",
	"login.totp": "One-time code (6 digits)", "login.recovery": "Use a recovery code",
	"login.recovery_code": "Recovery code", "login.submit": "Log in",
	"login.code_required": "This account has a second factor: enter the 6-digit code from your authenticator app, or a recovery code.",
	"login.wrong": "Wrong user name, password or code.",
	"login.locked": "Too many failed logins: the account is locked until {until}. An admin's password reset unlocks it.",
	"login.disabled": "This account is disabled.",
	"pw.title": "Change your password", "pw.why": "An administrator set this password for you: change it before you go on.",
	"pw.old": "Current password", "pw.new": "New password", "pw.again": "New password again", "pw.submit": "Change password",
	"pw.mismatch": "The new passwords differ.",
	"pw.policy": "At least 12 characters, of at least 3 of: upper case, lower case, digits, other characters.",
	"totp.title": "Turn on a second factor",
	"totp.why": "Your role needs a second factor (GB/T 22239-2019 8.1.4.1 d). Enter your password to make a secret.",
	"totp.password": "Password", "totp.begin": "Make a secret",
	"totp.scan": "Scan the QR code with an authenticator app (FreeOTP, Google Authenticator, …), or type the secret:",
	"totp.code": "The 6-digit code the app shows", "totp.confirm": "Turn on",
	"totp.recovery": "Recovery codes (each works once; shown only now, keep them safe):", "totp.done": "I have kept them, go on",
	"problems.title": "Problems", "problems.updated": "Updated {time}", "problems.none": "No problems match.",
	"problems.count": "{n} in all", "problems.search": "Search summary, rule, host",
	"problems.all_states": "All open", "problems.all_severities": "All severities", "problems.host": "Host",
	"problems.select_all": "Select all", "problems.selected": "{n} selected",
	"problems.ack": "Acknowledge", "problems.close": "Close", "problems.assign": "Assign to…", "problems.assign_to": "Assignee",
	"problems.bulk_done": "{ok} done, {failed} failed", "problems.stale": "Cannot refresh: {reason}",
	"col.severity": "Severity", "col.state": "State", "col.summary": "Summary", "col.host": "Host", "col.started": "Started",
	"col.duration": "Duration", "col.ack": "Acked by", "col.assignee": "Assignee", "col.rule": "Rule",
	"state.pending": "pending", "state.firing": "firing", "state.resolved": "resolved", "state.closed": "closed",
	"sev.info": "info", "sev.warning": "warning", "sev.critical": "critical", "sev.disaster": "disaster",
	"flag.silenced": "silenced", "flag.flapping": "flapping", "flag.suppressed": "suppressed",
	"alert.title": "Problem #{id}", "alert.back": "Back to problems", "alert.labels": "Labels", "alert.value": "Value",
	"alert.fired": "Fired", "alert.resolved_at": "Resolved", "alert.timeline": "Timeline",
	"alert.note": "Note (optional)", "alert.comment": "Comment", "alert.comment_note": "Comment",
	"alert.unack": "Unacknowledge", "alert.assign": "Assign", "alert.severity": "Change severity", "alert.close": "Close problem",
	"alert.close_confirm": "Once closed, the next occurrence opens a new problem. Close it?",
	"alert.not_found": "No such problem.", "alert.read_only": "Your role may only look.",
	"ev.fired": "fired", "ev.resolved": "resolved", "ev.ack": "acknowledged", "ev.unack": "unacknowledged",
	"ev.assign": "assigned", "ev.comment": "comment", "ev.severity": "severity changed", "ev.close": "closed",
	"ev.flapping": "flapping", "ev.escalated": "escalated", "ev.silenced": "silenced", "ev.pending": "pending",
	"ev.unsilenced": "silence over", "ev.suppressed": "suppressed", "ev.unsuppressed": "no longer suppressed",
	"ev.cancelled": "recovered before firing", "ev.unacknowledged": "unacknowledged on recovery", "ev.steady": "steady",
	"ev.notified": "notified", "ev.notify_retry": "notification failed, will retry", "ev.notify_failed": "notification failed, given up",
	"delivery": "Notification to {target} ({event}): {state}, waiting to be sent", "delivery.attempts": "{n} attempts",
	"dstate.queued": "queued", "dstate.sent": "delivered", "dstate.failed": "failed",
	"silences.title": "Silences", "silences.new": "New silence", "silences.show_ended": "Show ended ones",
	"silences.none": "No silences.", "silences.matchers": "Matchers", "silences.from": "From", "silences.to": "To",
	"silences.creator": "Creator", "silences.comment": "Comment", "silences.expire": "End now",
	"silences.active": "in force", "silences.pending": "to come", "silences.ended": "ended",
	"silences.every": "every {d}", "silences.add_matcher": "Add a matcher", "silences.label": "Label",
	"silences.value": "Value", "silences.duration": "Duration", "silences.create": "Create silence",
	"silences.preview": "Problems it would silence now: {n}", "silences.preview_none": "It would silence no problem now.",
	"silences.remove": "Remove",
	"dur.1h": "1 hour", "dur.2h": "2 hours", "dur.4h": "4 hours", "dur.8h": "8 hours", "dur.1d": "1 day", "dur.7d": "7 days",
	"ago.now": "just now", "ago.s": "{n} s", "ago.m": "{n} min", "ago.h": "{n} h", "ago.d": "{n} d",
	"err.forbidden": "Not allowed: {reason}", "err.network": "Cannot reach the collector.", "err.generic": "Something went wrong: {reason}",
	"err.session": "The session has ended; log in again.",
	"page.not_found": "No such page.",
};

const tables = { "zh-CN": zh, en };
const KEY = "vigil.lang";

export function lang() {
	const l = localStorage.getItem(KEY);
	return tables[l] ? l : "zh-CN";
}

export function setLang(l) {
	localStorage.setItem(KEY, tables[l] ? l : "zh-CN");
	document.documentElement.lang = lang();
	document.title = t("app.title");
}

// The text of key in the chosen language, {name}s filled from params.
export function t(key, params) {
	const s = tables[lang()][key] ?? zh[key] ?? key;
	return params ? s.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m)) : s;
}

// Every key of every language, for the test that none is missing.
export const keys = { zh: Object.keys(zh), en: Object.keys(en) };
