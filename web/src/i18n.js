// Every user-facing string, in Chinese first and English one click away. The choice is kept in localStorage.

const KEY = 'streetwatch.lang';

const zh = {
  'app.title': 'StreetWatch 数智治理中心',
  'app.subtitle': '街道巡查 · AI 视频告警',
  'nav.live': '实时告警', 'nav.cases': '案件列表', 'nav.cameras': '摄像头', 'nav.map': '地图', 'nav.figures': '统计',
  'login.title': '登录', 'login.username': '用户名', 'login.password': '密码', 'login.submit': '登录',
  'login.busy': '正在登录…', 'login.expired': '登录已过期，请重新登录', 'login.hint': '演示账号见 ./dev.sh demo 的输出',
  'header.logout': '退出', 'header.mute': '静音', 'header.unmute': '取消静音', 'header.lang': 'English',
  'header.role': '角色',
  'role.viewer': '查看员', 'role.dispatcher': '调度员', 'role.operator': '运维员', 'role.admin': '管理员',
  'feed.connected': '实时连接正常', 'feed.connecting': '正在连接实时告警…', 'feed.reconnecting': '连接中断，正在重连…',
  'live.title': '实时告警', 'live.empty': '暂无告警。新告警会在这里出现。', 'live.count': '{n} 条',
  'live.reset': '实时数据已重新加载',
  'kind.created': '新告警', 'kind.merged': '合并新情况', 'kind.transition': '状态变更', 'kind.escalated': '超期升级',
  'kind.verification': '摄像头复核', 'kind.episode_ended': '问题已消失', 'kind.loaded': '',
  'status.new': '待确认', 'status.confirmed': '已确认', 'status.dismissed': '已驳回', 'status.dispatched': '已派遣',
  'status.resolved': '已处置待复核', 'status.closed': '已结案', 'status.reopened': '已重新打开',
  'action.confirmed': '确认', 'action.dismissed': '驳回', 'action.dispatched': '派遣', 'action.resolved': '标记已处置',
  'action.closed': '结案', 'action.reopened': '重新打开',
  'priority.low': '低', 'priority.normal': '普通', 'priority.high': '高', 'priority.urgent': '紧急',
  'zone.school': '学校', 'zone.hospital': '医院', 'zone.no_parking': '禁停区', 'zone.no_vending': '禁止摆卖区',
  'zone.shop_front': '门前区域', 'zone.bin_area': '垃圾桶区', 'zone.road': '道路', 'zone.general': '一般区域',
  'reason.false_detection': '误报', 'reason.allowed': '允许', 'reason.duplicate': '重复', 'reason.other': '其他',
  'verification.pending': '摄像头复核中', 'verification.passed': '复核通过（问题已消失）',
  'verification.failed': '复核未通过（问题仍在）', 'verification.not_verified': '未复核 not verified',
  'verification.none': '尚未复核',
  'flag.overdue': '超期', 'flag.escalated': '已升级', 'flag.active': '问题仍在画面中',
  'camera.state.online': '在线', 'camera.state.connecting': '连接中', 'camera.state.stalled': '卡顿',
  'camera.state.offline': '离线', 'camera.state.unknown': '未知',
  'cameras.title': '摄像头', 'cameras.empty': '没有配置或上报的摄像头', 'cameras.decoded': '已解码帧',
  'cameras.analysed': '已分析帧', 'cameras.dropped': '丢弃帧', 'cameras.reconnects': '重连次数',
  'cameras.corrupt': '损坏包', 'cameras.last_frame': '最近一帧', 'cameras.resolution': '分辨率',
  'cameras.worker': '工作节点', 'cameras.no_snapshot': '暂无画面', 'cameras.updated': '每 {n} 秒刷新',
  'cases.title': '案件列表', 'cases.filter.status': '状态', 'cases.filter.class': '类别', 'cases.filter.priority': '优先级',
  'cases.filter.grid': '网格', 'cases.filter.camera': '摄像头', 'cases.filter.overdue': '仅超期',
  'cases.filter.sort': '排序', 'cases.filter.any': '全部', 'cases.filter.clear': '清除筛选',
  'sort.-created_at': '最新创建', 'sort.created_at': '最早创建', 'sort.-updated_at': '最近更新',
  'sort.-priority': '优先级从高到低', 'sort.deadline': '期限最近',
  'cases.col.id': '编号', 'cases.col.evidence': '证据', 'cases.col.class': '类别', 'cases.col.camera': '摄像头',
  'cases.col.zone': '区域', 'cases.col.status': '状态', 'cases.col.priority': '优先级', 'cases.col.grid': '网格',
  'cases.col.assignee': '处置人', 'cases.col.deadline': '期限', 'cases.col.created': '创建',
  'cases.empty': '没有符合条件的案件', 'cases.total': '共 {n} 条', 'cases.total_more': '超过 {n} 条，请缩小筛选范围', 'cases.page': '第 {page} / {pages} 页',
  'cases.prev': '上一页', 'cases.next': '下一页', 'cases.page_size': '每页',
  'case.title': '案件 #{id}', 'case.back': '返回列表', 'case.before': '整改前', 'case.after': '整改后',
  'case.no_after': '暂无整改后照片（结案或复核后出现）', 'case.no_evidence': '无证据照片',
  'case.camera': '摄像头', 'case.zone': '区域', 'case.grid': '网格', 'case.assignee': '处置人',
  'case.department': '责任部门', 'case.deadline': '处置期限', 'case.created': '创建时间', 'case.updated': '更新时间',
  'case.closed': '结案时间', 'case.episodes': '合并次数', 'case.confidence': '置信度', 'case.label': '识别对象',
  'case.reasons': '告警依据',
  'case.code': '国标编码', 'case.verification': '摄像头复核', 'case.timeline': '处置记录',
  'case.actions': '操作', 'case.note': '备注', 'case.note_placeholder': '处置说明（写入记录）',
  'case.reason': '驳回原因', 'case.reason_pick': '请选择…', 'case.reason_required': '驳回需要选择原因',
  'case.assignee_input': '指派给（可选，默认按规则）', 'case.no_actions': '当前角色不能操作此案件',
  'case.working': '提交中…', 'case.done': '已更新', 'case.events': '事件记录', 'case.none': '—',
  'case.priority': '优先级', 'case.dismiss_reason': '驳回原因',
  'timeline.camera': '摄像头（自动复核）', 'timeline.system': '系统（分派/升级）',
  'timeline.details': '详情', 'timeline.empty': '暂无记录',
  'detail.assignee': '处置人', 'detail.priority': '优先级', 'detail.deadline': '期限', 'detail.route': '分派规则',
  'detail.frames': '复核帧数', 'detail.present_frames': '可见帧数', 'detail.verdict': '结论', 'detail.event_id': '事件编号',
  'verdict.gone': '已消失', 'verdict.present': '仍在', 'kind.not_verified': '摄像头未能复核',
  'map.title': '地图', 'map.no_data': '未配置地图图层，也没有带位置的摄像头或案件', 'map.legend.grid': '网格',
  'map.legend.school': '学校', 'map.legend.hospital': '医院', 'map.legend.camera': '摄像头',
  'map.legend.case': '未结案件（颜色=优先级）', 'map.layer_error': '图层无法读取：{name}', 'map.open_case': '打开案件',
  'figures.title': '统计', 'figures.open': '未结案件', 'figures.overdue': '超期案件', 'figures.median': '结案中位时长',
  'figures.hours': '{n} 小时', 'figures.closed': '近 {days} 天结案', 'figures.by_class': '未结案件 · 按类别',
  'figures.by_grid': '未结案件 · 按网格', 'figures.per_day': '每日告警（近 {days} 天）', 'figures.by_status': '全部案件 · 按状态',
  'figures.no_grid': '未分网格', 'figures.count': '数量',
  'error.load': '加载失败：{msg}', 'error.network': '网络错误', 'common.loading': '加载中…',
  'common.yes': '是', 'common.no': '否', 'common.retry': '重试',
  'cameras.edit_zones': '区域编辑',
  'zones.title': '区域编辑 · {name}', 'zones.back': '← 摄像头', 'zones.overlay': '画面上的区域',
  'zones.no_picture': '暂无画面（工作节点上报后出现）；仍可按比例绘制区域',
  'zones.kept': '这里保留着你尚未保存的修改。', 'zones.list': '区域', 'zones.empty': '这路摄像头还没有区域',
  'zones.new': '新建区域', 'zones.done': '完成', 'zones.cancel': '取消绘制', 'zones.delete': '删除区域',
  'zones.undelete': '撤销删除', 'zones.save': '保存', 'zones.discard': '放弃修改', 'zones.discarded': '已恢复为已保存的区域',
  'zones.saving': '正在保存…', 'zones.saved': '已保存，工作节点将在几秒内使用新区域',
  'zones.not_saved': '{n} 个区域未能保存：见表单中的提示', 'zones.unsaved': '{n} 处未保存的修改',
  'zones.clean': '没有未保存的修改', 'zones.selected': '区域设置：{name}',
  'zones.pick_or_draw': '点击画面上的区域进行修改，或点击“新建区域”后在画面上逐点绘制。', 'zones.pick': '点击画面上的区域查看设置。',
  'zones.need_three': '区域至少需要 3 个顶点', 'zones.map_zone': '地图区域投影（只读）',
  'zones.hint.select': '点击区域选中；拖动顶点移动，拖动边上的小圆点添加顶点；右键顶点或选中后按 Delete 删除顶点。',
  'zones.hint.view': '点击区域查看其设置。',
  'zones.hint.draw': '在画面上逐点点击；点击第一个顶点或“完成”闭合，右键撤销上一点，Esc 取消。',
  'zones.hint.calibrate': '标定取点：先点击画面上的一个位置，再在地图上点击同一位置。',
  'zones.state.new': '新建', 'zones.state.changed': '已修改', 'zones.state.deleted': '待删除',
  'zones.legend.other': '其他区域', 'zones.legend.changed': '未保存的修改',
  'zones.field.id': '编号 id', 'zones.field.name': '名称', 'zones.field.kind': '区域类型', 'zones.field.polygon': '形状',
  'zones.field.classes': '监测类别', 'zones.field.priority': '优先级', 'zones.field.grid': '网格',
  'zones.field.overrides': '按类别调整', 'zones.field.schedule': '生效时段',
  'zones.override.dwell_s': '停留秒数', 'zones.override.clear_s': '消失秒数', 'zones.override.min_confidence': '最低置信度',
  'zones.override.min_area': '最小面积占比', 'zones.default': '默认', 'zones.priority_default': '按类型（学校/医院为高）',
  'zones.always': '全天生效（未设时段）', 'zones.vertices': '{n} 个顶点', 'zones.start': '开始', 'zones.end': '结束',
  'zones.add_window': '添加时段', 'zones.remove_window': '删除',
  'day.mon': '一', 'day.tue': '二', 'day.wed': '三', 'day.thu': '四', 'day.fri': '五', 'day.sat': '六', 'day.sun': '日',
  'whatif.title': '试运行', 'whatif.explain': '用全部草稿区域（含未保存的修改）重放这路摄像头最近的录像或上传的视频，与已保存区域对比。不会保存任何东西。',
  'whatif.recording': '录像时长', 'whatif.clear_clip': '不用上传的视频', 'whatif.minutes': '最近 {n} 分钟', 'whatif.upload': '或上传视频',
  'whatif.run': '试运行', 'whatif.sending': '正在提交…', 'whatif.queued': '已提交，等待工作节点运行…（{s} 秒）',
  'whatif.done': '试运行完成', 'whatif.failed': '试运行失败：{msg}', 'whatif.error': '无法试运行：{msg}',
  'whatif.summary': '{frames} 帧，用时 {seconds} 秒', 'whatif.zone': '区域', 'whatif.no_events': '两组区域都不会产生告警',
  'whatif.run.saved': '已保存区域', 'whatif.run.draft': '草稿区域',
  'versions.title': '历史版本 · {id}', 'versions.version': '版本', 'versions.action': '操作', 'versions.author': '修改人',
  'versions.at': '时间', 'versions.note': '备注', 'versions.restore': '恢复', 'versions.compare': '对比',
  'versions.from': '从版本', 'versions.to': '到版本', 'versions.field': '字段', 'versions.same': '两个版本相同',
  'versions.restored': '已恢复为新版本 v{version}',
  'versions.action.created': '新建', 'versions.action.updated': '修改', 'versions.action.deleted': '删除',
  'versions.action.restored': '恢复', 'versions.action.imported': '导入',
  'calib.title': '标定（地图对应点）', 'calib.explain': '至少 4 对点，不能在一条直线上：先点画面上的位置（如路缘转角、标线），再点地图上的同一位置。',
  'calib.pick': '开始取点', 'calib.stop': '停止取点', 'calib.save': '保存标定', 'calib.remove': '删除',
  'calib.pair': '画面 ({x}, {y}) ↔ 地图 ({lon}, {lat})', 'calib.none': '还没有点对',
  'calib.click_image': '请在画面上点击一个位置', 'calib.click_map': '请在地图上点击同一位置', 'calib.added': '已添加第 {n} 对',
  'calib.camera': '摄像头位置', 'calib.saved': '标定已保存（v{version}）', 'calib.refused': '未保存：{msg}',
  'map.zone.map_zone': '地图区域', 'map.zone.camera_zone': '摄像头区域（按标定投影）', 'map.zone.map_zones': '地图区域', 'map.zone.camera_zones': '摄像头区域',
  'map.zone.edit': '编辑区域', 'map.layer.cases': '未结案件', 'labels.title': '标注当前画面',
  'labels.explain': '按这路摄像头此刻的画面，为本区域监测的每个类别标注“有问题”或“无问题”；工作节点据此训练区域分类器，几秒内生效。', 'labels.explain_view': '已有的标注数量（调度员、运维员和管理员可以标注）。',
  'labels.class': '类别', 'labels.problem': '有问题', 'labels.clear': '无问题', 'labels.label_now': '标注此刻画面', 'labels.sending': '正在标注…',
  'labels.done': '已标注 #{id}：{cls} · {verdict}', 'labels.refused': '未标注：{msg}', 'labels.recent': '最近的标注', 'labels.none': '这个区域还没有标注',
  'labels.no_picture': '无画面', 'labels.unsent': '尚未发给工作节点', 'labels.source.operator': '人工标注', 'labels.source.case_confirmed': '确认案件',
  'labels.source.case_dismissed': '驳回案件', 'labels.case_title': '用此画面标注', 'labels.case_explain': '这张原始画面（不含框线）上，本区域是否有“{cls}”？标注用于训练区域分类器。',
  'labels.case_done': '已标注 #{id}：{verdict}',
  'coverage.title': '分割基准', 'coverage.state.uncalibrated': '未校准', 'coverage.state.calibrated': '已校准（{n} 帧）',
  'coverage.state.learnt': '已学习（{n} 个标注）', 'coverage.none': '尚无工作节点上报', 'coverage.auto': '其中 {n} 帧为自动学习',
  'coverage.calibrate': '此区域现在无问题（校准）',
  'coverage.explain': '确认此刻画面中本区域没有积水、垃圾或摊点：工作节点用实时画面和最近几分钟的画面学习本区域的无问题基准，之后在安静时段自动跟随昼夜变化。',
  'coverage.calibrating': '正在校准（等待下一帧）…', 'coverage.done': '已校准：用了 {n} 帧（其中最近 {recent} 帧）',
  'coverage.refused': '未校准：{msg}',
};

const en = {
  'app.title': 'StreetWatch Governance Centre',
  'app.subtitle': 'Street patrol · AI video alerts',
  'nav.live': 'Live alerts', 'nav.cases': 'Cases', 'nav.cameras': 'Cameras', 'nav.map': 'Map', 'nav.figures': 'Figures',
  'login.title': 'Log in', 'login.username': 'User name', 'login.password': 'Password', 'login.submit': 'Log in',
  'login.busy': 'Logging in…', 'login.expired': 'Your session has expired: log in again',
  'login.hint': 'The demo account is printed by ./dev.sh demo',
  'header.logout': 'Log out', 'header.mute': 'Mute', 'header.unmute': 'Unmute', 'header.lang': '中文',
  'header.role': 'Role',
  'role.viewer': 'viewer', 'role.dispatcher': 'dispatcher', 'role.operator': 'operator', 'role.admin': 'admin',
  'feed.connected': 'Live feed connected', 'feed.connecting': 'Connecting to the live feed…',
  'feed.reconnecting': 'Live feed interrupted, reconnecting…',
  'live.title': 'Live alerts', 'live.empty': 'No alerts yet. New alerts appear here.', 'live.count': '{n} items',
  'live.reset': 'Live data reloaded',
  'kind.created': 'New alert', 'kind.merged': 'Seen again', 'kind.transition': 'Status changed',
  'kind.escalated': 'Overdue: escalated', 'kind.verification': 'Camera check', 'kind.episode_ended': 'Problem gone',
  'kind.loaded': '',
  'status.new': 'new', 'status.confirmed': 'confirmed', 'status.dismissed': 'dismissed',
  'status.dispatched': 'dispatched',
  'status.resolved': 'resolved, awaiting the camera', 'status.closed': 'closed', 'status.reopened': 'reopened',
  'action.confirmed': 'Confirm', 'action.dismissed': 'Dismiss', 'action.dispatched': 'Dispatch',
  'action.resolved': 'Mark resolved', 'action.closed': 'Close', 'action.reopened': 'Reopen',
  'priority.low': 'low', 'priority.normal': 'normal', 'priority.high': 'high', 'priority.urgent': 'urgent',
  'zone.school': 'school', 'zone.hospital': 'hospital', 'zone.no_parking': 'no parking',
  'zone.no_vending': 'no vending',
  'zone.shop_front': 'shop front', 'zone.bin_area': 'bin area', 'zone.road': 'road', 'zone.general': 'general',
  'reason.false_detection': 'false detection', 'reason.allowed': 'allowed', 'reason.duplicate': 'duplicate',
  'reason.other': 'other',
  'verification.pending': 'camera check pending', 'verification.passed': 'passed: the problem is gone',
  'verification.failed': 'failed: the problem is still there', 'verification.not_verified': '未复核 not verified',
  'verification.none': 'not checked yet',
  'flag.overdue': 'overdue', 'flag.escalated': 'escalated', 'flag.active': 'still in view',
  'camera.state.online': 'online', 'camera.state.connecting': 'connecting', 'camera.state.stalled': 'stalled',
  'camera.state.offline': 'offline', 'camera.state.unknown': 'unknown',
  'cameras.title': 'Cameras', 'cameras.empty': 'No camera is configured or reporting', 'cameras.decoded': 'decoded',
  'cameras.analysed': 'analysed', 'cameras.dropped': 'dropped', 'cameras.reconnects': 'reconnects',
  'cameras.corrupt': 'corrupt packets', 'cameras.last_frame': 'last frame', 'cameras.resolution': 'resolution',
  'cameras.worker': 'worker', 'cameras.no_snapshot': 'no picture yet', 'cameras.updated': 'refreshed every {n} s',
  'cases.title': 'Cases', 'cases.filter.status': 'Status', 'cases.filter.class': 'Class',
  'cases.filter.priority': 'Priority', 'cases.filter.grid': 'Grid', 'cases.filter.camera': 'Camera',
  'cases.filter.overdue': 'Overdue only', 'cases.filter.sort': 'Sort', 'cases.filter.any': 'any',
  'cases.filter.clear': 'Clear filters',
  'sort.-created_at': 'newest', 'sort.created_at': 'oldest', 'sort.-updated_at': 'recently updated',
  'sort.-priority': 'most urgent', 'sort.deadline': 'deadline soonest',
  'cases.col.id': 'No.', 'cases.col.evidence': 'Evidence', 'cases.col.class': 'Class', 'cases.col.camera': 'Camera',
  'cases.col.zone': 'Zone', 'cases.col.status': 'Status', 'cases.col.priority': 'Priority', 'cases.col.grid': 'Grid',
  'cases.col.assignee': 'Assignee', 'cases.col.deadline': 'Deadline', 'cases.col.created': 'Created',
  'cases.empty': 'No case matches', 'cases.total': '{n} in all', 'cases.total_more': 'more than {n}: narrow the filters', 'cases.page': 'page {page} of {pages}',
  'cases.prev': 'Previous', 'cases.next': 'Next', 'cases.page_size': 'per page',
  'case.title': 'Case #{id}', 'case.back': 'Back to the list', 'case.before': 'Before (整改前)',
  'case.after': 'After (整改后)', 'case.no_after': 'No after-photo yet (it comes with the camera check or closure)',
  'case.no_evidence': 'No evidence photo',
  'case.camera': 'Camera', 'case.zone': 'Zone', 'case.grid': 'Grid', 'case.assignee': 'Assignee',
  'case.department': 'Department', 'case.deadline': 'Deadline', 'case.created': 'Created', 'case.updated': 'Updated',
  'case.closed': 'Closed', 'case.episodes': 'Episodes merged', 'case.confidence': 'Confidence', 'case.label': 'Object',
  'case.reasons': 'Why it fired',
  'case.code': 'National code', 'case.verification': 'Camera check', 'case.timeline': 'Timeline',
  'case.actions': 'Actions', 'case.note': 'Note', 'case.note_placeholder': 'What was done (goes into the timeline)',
  'case.reason': 'Dismissal reason', 'case.reason_pick': 'Choose…', 'case.reason_required': 'Dismissing needs a reason',
  'case.assignee_input': 'Assign to (optional; routing decides otherwise)',
  'case.no_actions': 'Your role cannot act on this case', 'case.working': 'Sending…', 'case.done': 'Updated',
  'case.events': 'Events', 'case.none': '—', 'case.priority': 'Priority', 'case.dismiss_reason': 'Dismissal reason',
  'timeline.camera': 'camera (automatic check)', 'timeline.system': 'system (routing, escalation)',
  'timeline.details': 'details', 'timeline.empty': 'Nothing recorded yet',
  'detail.assignee': 'assignee', 'detail.priority': 'priority', 'detail.deadline': 'deadline',
  'detail.route': 'routing rule', 'detail.frames': 'frames checked', 'detail.present_frames': 'frames with it',
  'detail.verdict': 'verdict', 'detail.event_id': 'event', 'verdict.gone': 'gone', 'verdict.present': 'still there',
  'kind.not_verified': 'the camera could not check',
  'map.title': 'Map', 'map.no_data': 'No map layer is configured and no camera or case has a position',
  'map.legend.grid': 'grid', 'map.legend.school': 'school', 'map.legend.hospital': 'hospital',
  'map.legend.camera': 'camera', 'map.legend.case': 'open case (colour = priority)',
  'map.layer_error': 'layer cannot be read: {name}', 'map.open_case': 'Open the case',
  'figures.title': 'Figures', 'figures.open': 'Open cases', 'figures.overdue': 'Overdue cases',
  'figures.median': 'Median time to close', 'figures.hours': '{n} h', 'figures.closed': 'closed in {days} days',
  'figures.by_class': 'Open cases by class', 'figures.by_grid': 'Open cases by grid',
  'figures.per_day': 'Alerts per day (last {days} days)', 'figures.by_status': 'All cases by status',
  'figures.no_grid': 'no grid', 'figures.count': 'count',
  'error.load': 'Could not load: {msg}', 'error.network': 'network error', 'common.loading': 'Loading…',
  'common.yes': 'yes', 'common.no': 'no', 'common.retry': 'Retry',
  'cameras.edit_zones': 'Edit zones',
  'zones.title': 'Zones · {name}', 'zones.back': '← Cameras', 'zones.overlay': 'zones on the picture',
  'zones.no_picture': 'No picture yet (it comes once a worker reports); zones can still be drawn to scale',
  'zones.kept': 'Your unsaved changes are kept here.', 'zones.list': 'Zones', 'zones.empty': 'This camera has no zone yet',
  'zones.new': 'New zone', 'zones.done': 'Done', 'zones.cancel': 'Cancel drawing', 'zones.delete': 'Delete zone',
  'zones.undelete': 'Undo delete', 'zones.save': 'Save', 'zones.discard': 'Discard changes',
  'zones.discarded': 'Back to the saved zones',
  'zones.saving': 'Saving…', 'zones.saved': 'Saved: the worker uses the new zones within seconds',
  'zones.not_saved': '{n} zone(s) not saved: see the messages in the form', 'zones.unsaved': '{n} unsaved change(s)',
  'zones.clean': 'No unsaved changes', 'zones.selected': 'Zone: {name}',
  'zones.pick_or_draw': 'Click a zone on the picture to change it, or "New zone" and click its corners on the picture.',
  'zones.pick': 'Click a zone on the picture to see its settings.',
  'zones.need_three': 'A zone needs at least 3 corners', 'zones.map_zone': 'map zone, projected (read-only)',
  'zones.hint.select': 'Click a zone to select it; drag a corner to move it, drag a small dot on an edge to add one; right-click a corner, or select it and press Delete, to remove it.',
  'zones.hint.view': 'Click a zone to see its settings.',
  'zones.hint.draw': 'Click the corners on the picture; click the first corner or "Done" to close, right-click to undo a corner, Esc to cancel.',
  'zones.hint.calibrate': 'Calibration: click a spot on the picture, then the same spot on the map.',
  'zones.state.new': 'new', 'zones.state.changed': 'changed', 'zones.state.deleted': 'to delete',
  'zones.legend.other': 'other zones', 'zones.legend.changed': 'unsaved change',
  'zones.field.id': 'id', 'zones.field.name': 'Name', 'zones.field.kind': 'Kind', 'zones.field.polygon': 'Shape',
  'zones.field.classes': 'Classes watched', 'zones.field.priority': 'Priority', 'zones.field.grid': 'Grid',
  'zones.field.overrides': 'Per-class settings', 'zones.field.schedule': 'Armed during',
  'zones.override.dwell_s': 'dwell (s)', 'zones.override.clear_s': 'clear after (s)',
  'zones.override.min_confidence': 'min. confidence', 'zones.override.min_area': 'min. area (share)',
  'zones.default': 'default', 'zones.priority_default': 'by kind (high for schools, hospitals)',
  'zones.always': 'always armed (no window)', 'zones.vertices': '{n} corners', 'zones.start': 'start', 'zones.end': 'end',
  'zones.add_window': 'Add a window', 'zones.remove_window': 'Remove',
  'day.mon': 'Mo', 'day.tue': 'Tu', 'day.wed': 'We', 'day.thu': 'Th', 'day.fri': 'Fr', 'day.sat': 'Sa', 'day.sun': 'Su',
  'whatif.title': 'What-if', 'whatif.explain': 'Replays the camera\'s recent recording, or an uploaded clip, with every draft zone (unsaved changes included) beside the saved zones. Nothing is saved.',
  'whatif.recording': 'Recording', 'whatif.clear_clip': 'use the recording instead', 'whatif.minutes': 'last {n} min', 'whatif.upload': 'or upload a clip',
  'whatif.run': 'What-if', 'whatif.sending': 'Sending…', 'whatif.queued': 'Queued: waiting for the camera\'s worker… ({s} s)',
  'whatif.done': 'What-if finished', 'whatif.failed': 'The what-if failed: {msg}', 'whatif.error': 'Cannot run the what-if: {msg}',
  'whatif.summary': '{frames} frames in {seconds} s', 'whatif.zone': 'Zone', 'whatif.no_events': 'Neither zone set raises an alert',
  'whatif.run.saved': 'saved zones', 'whatif.run.draft': 'draft zones',
  'versions.title': 'Versions · {id}', 'versions.version': 'Version', 'versions.action': 'Action', 'versions.author': 'By',
  'versions.at': 'When', 'versions.note': 'Note', 'versions.restore': 'Restore', 'versions.compare': 'Compare',
  'versions.from': 'from version', 'versions.to': 'to version', 'versions.field': 'Field',
  'versions.same': 'The two versions are the same', 'versions.restored': 'Restored as the new version v{version}',
  'versions.action.created': 'created', 'versions.action.updated': 'changed', 'versions.action.deleted': 'deleted',
  'versions.action.restored': 'restored', 'versions.action.imported': 'imported',
  'calib.title': 'Calibration (map points)', 'calib.explain': 'At least 4 pairs, not on one line: click a spot on the picture (a kerb corner, a road marking), then the same spot on the map.',
  'calib.pick': 'Pick points', 'calib.stop': 'Stop picking', 'calib.save': 'Save calibration', 'calib.remove': 'remove',
  'calib.pair': 'picture ({x}, {y}) ↔ map ({lon}, {lat})', 'calib.none': 'No pair yet',
  'calib.click_image': 'Click a spot on the picture', 'calib.click_map': 'Now click the same spot on the map',
  'calib.added': 'Pair {n} added', 'calib.camera': 'camera position', 'calib.saved': 'Calibration saved (v{version})',
  'calib.refused': 'Not saved: {msg}',
  'map.zone.map_zone': 'map zone', 'map.zone.camera_zone': 'camera zone (projected by its calibration)', 'map.zone.map_zones': 'Map zones',
  'map.zone.camera_zones': 'Camera zones', 'map.zone.edit': 'Edit the zones', 'map.layer.cases': 'Open cases',
  'labels.title': 'Label the current view',
  'labels.explain': 'On the camera\'s view right now, mark for each class this zone watches whether it shows the problem or is clear of it; the worker trains the zone classifier from it within seconds.',
  'labels.explain_view': 'Labels so far (dispatchers, operators and admins may label).', 'labels.class': 'Class', 'labels.problem': 'Problem',
  'labels.clear': 'Clear', 'labels.label_now': 'Label the view now', 'labels.sending': 'Labelling…',
  'labels.done': 'Label #{id} saved: {cls} · {verdict}', 'labels.refused': 'Not labelled: {msg}', 'labels.recent': 'Latest labels',
  'labels.none': 'No label for this zone yet', 'labels.no_picture': 'no picture', 'labels.unsent': 'not yet sent to the worker',
  'labels.source.operator': 'labelled by hand', 'labels.source.case_confirmed': 'case confirmed', 'labels.source.case_dismissed': 'case dismissed',
  'labels.case_title': 'Label this picture',
  'labels.case_explain': 'Does the zone show "{cls}" on this picture (as the camera saw it, without our boxes)? The label teaches the zone classifier.',
  'labels.case_done': 'Label #{id} saved: {verdict}',
  'coverage.title': 'Clear level', 'coverage.state.uncalibrated': 'uncalibrated', 'coverage.state.calibrated': 'calibrated ({n} frames)',
  'coverage.state.learnt': 'learnt ({n} labels)', 'coverage.none': 'no worker has reported yet', 'coverage.auto': '{n} of them learnt by itself',
  'coverage.calibrate': 'This zone is clear now (calibrate)',
  'coverage.explain': 'Confirm the zone shows no water, garbage or stall right now: the worker learns its clear level from the live frame and the last minutes, then follows day and night by itself over quiet hours.',
  'coverage.calibrating': 'Calibrating (waiting for the next frame)…', 'coverage.done': 'Calibrated from {n} frames ({recent} of them from the last minutes)',
  'coverage.refused': 'Not calibrated: {msg}',
};

export const DICTIONARIES = { zh, en };
const listeners = new Set();
let current = localStorage.getItem(KEY) === 'en' ? 'en' : 'zh';

export function lang() {
  return current;
}

export function locale() {
  return current === 'zh' ? 'zh-CN' : 'en-GB';
}

export function setLang(value) {
  current = value === 'en' ? 'en' : 'zh';
  localStorage.setItem(KEY, current);
  document.documentElement.lang = locale();
  for (const listener of listeners) listener(current);
}

export function onLangChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The text for `key` in the current language, with {name} placeholders filled from `vars`. */
export function t(key, vars = {}) {
  const text = DICTIONARIES[current][key] ?? DICTIONARIES.zh[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

/** A translated label for a value from the API, falling back to the raw value for one we do not know. */
export function label(prefix, value) {
  if (value === null || value === undefined || value === '') return t('case.none');
  const key = `${prefix}.${value}`;
  return key in DICTIONARIES[current] ? t(key) : String(value);
}

/** The class name a case or figure carries in both languages. */
export function className(item) {
  return (current === 'zh' ? item.class_name_zh ?? item.name_zh : item.class_name_en ?? item.name_en)
    ?? item.class ?? item.id ?? '';
}

export function fmtTime(iso) {
  if (!iso) return t('case.none');
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : date.toLocaleString(locale(), { hour12: false });
}

const UNITS = [['day', 86400], ['hour', 3600], ['minute', 60], ['second', 1]];

/** "3 分钟前" / "3 minutes ago"; a future moment (a deadline) reads "in 2 hours". */
export function fmtAge(iso, now = Date.now()) {
  if (!iso) return t('case.none');
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  if (Number.isNaN(seconds)) return String(iso);
  const format = new Intl.RelativeTimeFormat(locale(), { numeric: 'auto', style: 'short' });
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size || unit === 'second') {
      return format.format(Math.trunc(seconds / size), unit);
    }
  }
  return '';
}

/** Fill `[data-i18n]` text and `[data-i18n-placeholder]` placeholders under `root`. */
export function applyStatic(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
  document.title = t('app.title');
}
